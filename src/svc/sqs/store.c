/* store.c: SQS queues and messages: the in-memory working set (what receivers read) and its
 * write-through to SQLite (what survives a restart). A send is acknowledged only after its
 * row is committed; receives, visibility changes and deletes are committed before they
 * answer too, so a restart finds every queue as the clients last saw it (in-flight messages
 * stay invisible until their timeout, receive counts keep counting toward the DLQ).
 *
 * Standard queues keep visible messages in a FIFO list and delayed or in-flight ones in a
 * min-heap by the region time they become visible, so a receive costs O(messages taken), not
 * O(queue length). FIFO queues keep one list in send order and scan it, skipping groups that
 * have a message in flight (group order is the point of FIFO queues; they are smaller). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/clock.h"
#include "core/hash.h"
#include "svc/sqs/sqs_internal.h"

nb_db *nb_sqs_db;
char nb_sqs_region[64] = "us-east-1";
char nb_sqs_default_host[300] = "localhost:4566";

static const char *const migrations[] = {
    "CREATE TABLE queues(id INTEGER PRIMARY KEY, account TEXT NOT NULL, name TEXT NOT NULL,"
    " attrs TEXT NOT NULL, tags TEXT NOT NULL, created INTEGER NOT NULL, modified INTEGER NOT NULL,"
    " UNIQUE(account, name));"
    "CREATE TABLE messages(queue INTEGER NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL,"
    " body BLOB NOT NULL, attrs TEXT, sys_attrs TEXT, md5_body TEXT, md5_attrs TEXT, md5_sys TEXT,"
    " sent_ms INTEGER NOT NULL, visible_us INTEGER NOT NULL, first_recv_ms INTEGER NOT NULL,"
    " recv_count INTEGER NOT NULL, grp TEXT, dedup TEXT, seqnum TEXT, sender TEXT,"
    " PRIMARY KEY(queue, seq)) WITHOUT ROWID;"
    "CREATE TABLE dedup(queue INTEGER NOT NULL, key TEXT NOT NULL, msg_id TEXT NOT NULL,"
    " seqnum TEXT, expires_us INTEGER NOT NULL, PRIMARY KEY(queue, key)) WITHOUT ROWID;",
};

/* ---------------------------------------------------------------- directory */

#define NBUCKETS 1024
static pthread_rwlock_t dir_lock = PTHREAD_RWLOCK_INITIALIZER;
static sqs_queue *buckets[NBUCKETS];
static size_t nqueues;

static unsigned hash_str2(const char *a, const char *b)
{
    uint32_t h = 2166136261u;
    for (; *a; a++) h = (h ^ (unsigned char)*a) * 16777619u;
    h = (h ^ '/') * 16777619u;
    for (; *b; b++) h = (h ^ (unsigned char)*b) * 16777619u;
    return h % NBUCKETS;
}

static sqs_queue *dir_find(const char *account, const char *name)
{
    for (sqs_queue *q = buckets[hash_str2(account, name)]; q; q = q->hnext)
        if (!strcmp(q->name, name) && !strcmp(q->account, account)) return q;
    return NULL;
}

static void dir_add(sqs_queue *q)
{
    unsigned h = hash_str2(q->account, q->name);
    q->hnext = buckets[h];
    buckets[h] = q;
    nqueues++;
}

static void dir_remove(sqs_queue *q)
{
    for (sqs_queue **pp = &buckets[hash_str2(q->account, q->name)]; *pp; pp = &(*pp)->hnext)
        if (*pp == q) {
            *pp = q->hnext;
            nqueues--;
            return;
        }
}

/* Names deleted in the last 60 s of region time (AWS refuses to re-create one sooner:
 * QueueDeletedRecently). A short list under dir_lock; entries older than that are dropped as
 * the list is walked. Kept in memory only: a restart forgets them. */
typedef struct deleted_name {
    struct deleted_name *next;
    char account[13];
    char name[81];
    int64_t at_us;
} deleted_name;
static deleted_name *recently_deleted;
#define NB_SQS_RECREATE_DELAY_US (60 * 1000000LL)

/* Whether account/name was deleted less than 60 s ago (dir_lock held for writing). */
static bool deleted_recently(const char *account, const char *name, int64_t now)
{
    bool found = false;
    for (deleted_name **pp = &recently_deleted; *pp;) {
        deleted_name *d = *pp;
        /* a clock moved back keeps the entry (now < at_us) until it is 60 s past again */
        if (now - d->at_us >= NB_SQS_RECREATE_DELAY_US) {
            *pp = d->next;
            free(d);
            continue;
        }
        if (!strcmp(d->name, name) && !strcmp(d->account, account)) found = true;
        pp = &d->next;
    }
    return found;
}

static void deleted_forget_all(void)
{
    while (recently_deleted) {
        deleted_name *d = recently_deleted;
        recently_deleted = d->next;
        free(d);
    }
}

/* ---------------------------------------------------------------- messages */

sqs_msg *nb_sqs_msg_new(const char *body, size_t body_len, const char *attrs, const char *sys_attrs,
                        const char *group, const char *dedup, const char *sender)
{
    size_t la = attrs ? strlen(attrs) + 1 : 0, ls = sys_attrs ? strlen(sys_attrs) + 1 : 0;
    size_t lg = group ? strlen(group) + 1 : 0, ld = dedup ? strlen(dedup) + 1 : 0;
    size_t lsn = sender ? strlen(sender) + 1 : 0;
    sqs_msg *m = calloc(1, sizeof(*m) + body_len + 1 + la + ls + lg + ld + lsn);
    if (!m) return NULL;
    char *p = (char *)(m + 1);
    m->heap_idx = -1;
    m->body = p;
    memcpy(p, body, body_len);
    p[body_len] = 0;
    m->body_len = body_len;
    p += body_len + 1;
#define COPY(field, src, len)                                                                      \
    if (src) {                                                                                     \
        m->field = p;                                                                              \
        memcpy(p, src, len);                                                                       \
        p += len;                                                                                  \
    }
    COPY(attrs, attrs, la)
    COPY(sys_attrs, sys_attrs, ls)
    COPY(group, group, lg)
    COPY(dedup, dedup, ld)
    COPY(sender, sender, lsn)
#undef COPY
    return m;
}

void nb_sqs_msg_free(sqs_msg *m) { free(m); }

/* A copy of m with system attributes sys (JSON text). */
static sqs_msg *msg_copy_sys(const sqs_msg *m, const char *sys)
{
    sqs_msg *c = nb_sqs_msg_new(m->body, m->body_len, m->attrs, sys, m->group, m->dedup, m->sender);
    if (!c) return NULL;
    c->seq = m->seq;
    memcpy(c->id, m->id, sizeof(c->id));
    memcpy(c->md5_body, m->md5_body, 33);
    memcpy(c->md5_attrs, m->md5_attrs, 33);
    memcpy(c->md5_sys, m->md5_sys, 33);
    memcpy(c->seqnum, m->seqnum, sizeof(c->seqnum));
    c->sent_ms = m->sent_ms;
    c->visible_us = m->visible_us;
    c->first_recv_ms = m->first_recv_ms;
    c->receive_count = m->receive_count;
    c->nonce = m->nonce;
    return c;
}

/* A copy for a receiver, taken under the queue lock, used after it is released. */
static sqs_msg *msg_copy(const sqs_msg *m)
{
    return msg_copy_sys(m, m->sys_attrs);
}

/* seq -> message map */
static size_t map_slot(uint64_t seq, size_t cap) { return (size_t)((seq * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1); }

static int map_put(sqs_msgmap *mm, sqs_msg *m)
{
    if ((mm->len + 1) * 4 > mm->cap * 3) {
        size_t ncap = mm->cap ? mm->cap * 2 : 64;
        sqs_msg **ns = calloc(ncap, sizeof(*ns));
        if (!ns) return -1;
        for (size_t i = 0; i < mm->cap; i++) {
            sqs_msg *x = mm->slots[i];
            if (!x) continue;
            size_t j = map_slot(x->seq, ncap);
            while (ns[j]) j = (j + 1) & (ncap - 1);
            ns[j] = x;
        }
        free(mm->slots);
        mm->slots = ns;
        mm->cap = ncap;
    }
    size_t j = map_slot(m->seq, mm->cap);
    while (mm->slots[j]) j = (j + 1) & (mm->cap - 1);
    mm->slots[j] = m;
    mm->len++;
    return 0;
}

static sqs_msg *map_get(const sqs_msgmap *mm, uint64_t seq)
{
    if (!mm->cap) return NULL;
    for (size_t j = map_slot(seq, mm->cap); mm->slots[j]; j = (j + 1) & (mm->cap - 1))
        if (mm->slots[j]->seq == seq) return mm->slots[j];
    return NULL;
}

static void map_del(sqs_msgmap *mm, uint64_t seq)
{
    if (!mm->cap) return;
    size_t mask = mm->cap - 1, j = map_slot(seq, mm->cap);
    while (mm->slots[j] && mm->slots[j]->seq != seq) j = (j + 1) & mask;
    if (!mm->slots[j]) return;
    mm->slots[j] = NULL;
    mm->len--;
    /* backward shift: re-place the rest of the cluster */
    for (size_t k = (j + 1) & mask; mm->slots[k]; k = (k + 1) & mask) {
        sqs_msg *x = mm->slots[k];
        mm->slots[k] = NULL;
        size_t t = map_slot(x->seq, mm->cap);
        while (mm->slots[t]) t = (t + 1) & mask;
        mm->slots[t] = x;
    }
}

/* waiting heap (standard queues) */
static bool heap_less(const sqs_msg *a, const sqs_msg *b)
{
    return a->visible_us < b->visible_us || (a->visible_us == b->visible_us && a->seq < b->seq);
}

static void heap_set(sqs_queue *q, size_t i, sqs_msg *m)
{
    q->heap[i] = m;
    m->heap_idx = (ssize_t)i;
}

static void heap_up(sqs_queue *q, size_t i)
{
    sqs_msg *m = q->heap[i];
    while (i > 0) {
        size_t p = (i - 1) / 2;
        if (!heap_less(m, q->heap[p])) break;
        heap_set(q, i, q->heap[p]);
        i = p;
    }
    heap_set(q, i, m);
}

static void heap_down(sqs_queue *q, size_t i)
{
    sqs_msg *m = q->heap[i];
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, s = i;
        const sqs_msg *best = m;
        if (l < q->nheap && heap_less(q->heap[l], best)) {
            s = l;
            best = q->heap[l];
        }
        if (r < q->nheap && heap_less(q->heap[r], best)) s = r;
        if (s == i) break;
        heap_set(q, i, q->heap[s]);
        i = s;
    }
    heap_set(q, i, m);
}

static int heap_push(sqs_queue *q, sqs_msg *m)
{
    if (q->nheap == q->capheap) {
        size_t nc = q->capheap ? q->capheap * 2 : 64;
        sqs_msg **nh = realloc(q->heap, nc * sizeof(*nh));
        if (!nh) return -1;
        q->heap = nh;
        q->capheap = nc;
    }
    heap_set(q, q->nheap++, m);
    heap_up(q, q->nheap - 1);
    return 0;
}

static void heap_remove(sqs_queue *q, sqs_msg *m)
{
    size_t i = (size_t)m->heap_idx;
    m->heap_idx = -1;
    sqs_msg *last = q->heap[--q->nheap];
    if (i == q->nheap) return;
    heap_set(q, i, last);
    heap_up(q, i);
    heap_down(q, (size_t)last->heap_idx);
}

static void heap_fix(sqs_queue *q, sqs_msg *m)
{
    heap_up(q, (size_t)m->heap_idx);
    heap_down(q, (size_t)m->heap_idx);
}

/* list */
static void list_append(sqs_queue *q, sqs_msg *m)
{
    m->next = NULL;
    m->prev = q->tail;
    if (q->tail)
        q->tail->next = m;
    else
        q->head = m;
    q->tail = m;
}

/* FIFO: keep send order even when two senders' commits finish out of order. */
static void list_insert_sorted(sqs_queue *q, sqs_msg *m)
{
    sqs_msg *after = q->tail;
    while (after && after->seq > m->seq) after = after->prev;
    m->prev = after;
    m->next = after ? after->next : q->head;
    if (m->next)
        m->next->prev = m;
    else
        q->tail = m;
    if (after)
        after->next = m;
    else
        q->head = m;
}

static void list_unlink(sqs_queue *q, sqs_msg *m)
{
    if (m->prev)
        m->prev->next = m->next;
    else
        q->head = m->next;
    if (m->next)
        m->next->prev = m->prev;
    else
        q->tail = m->prev;
    m->prev = m->next = NULL;
}

/* Place a stored message into the queue's structures (mu held). */
static void place(sqs_queue *q, sqs_msg *m, int64_t now)
{
    map_put(&q->byseq, m);
    q->count++;
    if (q->fifo) {
        list_insert_sorted(q, m);
    } else if (m->visible_us > now) {
        if (heap_push(q, m) < 0) list_append(q, m); /* out of memory: visible at once */
    } else {
        list_append(q, m);
    }
}

/* Take a message out of every structure (mu held); the caller frees it. */
static void detach(sqs_queue *q, sqs_msg *m)
{
    map_del(&q->byseq, m->seq);
    if (m->heap_idx >= 0)
        heap_remove(q, m);
    else
        list_unlink(q, m);
    q->count--;
}

/* Standard queues: messages whose time came move to the ready list. */
static void promote(sqs_queue *q, int64_t now)
{
    if (q->fifo) return;
    while (q->nheap && q->heap[0]->visible_us <= now) {
        sqs_msg *m = q->heap[0];
        heap_remove(q, m);
        m->inflight = false;
        list_append(q, m);
    }
}

/* ---------------------------------------------------------------- queues */

static int parse_int_attr(json_t *attrs, const char *name, int def)
{
    const char *s = json_string_value(json_object_get(attrs, name));
    return s && *s ? atoi(s) : def;
}

void nb_sqs_queue_apply_attrs(sqs_queue *q)
{
    q->visibility = parse_int_attr(q->attrs, "VisibilityTimeout", 30);
    q->retention = parse_int_attr(q->attrs, "MessageRetentionPeriod", 345600);
    q->delay = parse_int_attr(q->attrs, "DelaySeconds", 0);
    q->wait = parse_int_attr(q->attrs, "ReceiveMessageWaitTimeSeconds", 0);
    q->max_size = parse_int_attr(q->attrs, "MaximumMessageSize", NB_SQS_MAX_MESSAGE);
    const char *cbd = json_string_value(json_object_get(q->attrs, "ContentBasedDeduplication"));
    q->content_dedup = cbd && !strcasecmp(cbd, "true");
    const char *ds = json_string_value(json_object_get(q->attrs, "DeduplicationScope"));
    q->dedup_group_scope = ds && !strcmp(ds, "messageGroup");
    q->max_receive = 0;
    q->dlq_arn[0] = 0;
    const char *rp = json_string_value(json_object_get(q->attrs, "RedrivePolicy"));
    if (rp && *rp) {
        json_t *d = json_loads(rp, 0, NULL);
        const char *arn = json_string_value(json_object_get(d, "deadLetterTargetArn"));
        json_t *mrc = json_object_get(d, "maxReceiveCount");
        if (arn) snprintf(q->dlq_arn, sizeof(q->dlq_arn), "%s", arn);
        q->max_receive = json_is_integer(mrc) ? (int)json_integer_value(mrc)
                         : json_is_string(mrc) ? atoi(json_string_value(mrc))
                                               : 0;
        json_decref(d);
    }
}

/* ---------------------------------------------------------------- long-poll waiters */

static void waiter_unlink(sqs_queue *q, sqs_waiter *w)
{
    if (w->prev)
        w->prev->next = w->next;
    else
        q->wait_head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->wait_tail = w->prev;
    w->prev = w->next = NULL;
    w->linked = false;
}

/* q->mu held: resume up to n waiting receives (n < 0: all), oldest first. */
static void wake(sqs_queue *q, int n)
{
    while (q->wait_head && n != 0) {
        sqs_waiter *w = q->wait_head;
        waiter_unlink(q, w);
        nb_call_resume(w->c); /* only posts: w stays valid while we hold q->mu */
        if (n > 0) n--;
    }
}

/* q->mu held: true if a receive could find a message now. FIFO queues answer "maybe" when
 * they hold any (group locks are checked by the receive itself). */
static bool maybe_visible(const sqs_queue *q, int64_t now)
{
    if (q->deleted) return true;
    if (q->fifo) return q->count > 0;
    return q->head || (q->nheap && q->heap[0]->visible_us <= now);
}

/* q->mu held: ms until w should look again: its deadline, the next message to become
 * visible, and at most 1 s (region clock jumps). */
static int64_t waiter_tick_ms(const sqs_queue *q, const sqs_waiter *w)
{
    int64_t slice = w->deadline_us - nb_mono_us();
    if (slice > 1000000) slice = 1000000;
    if (!q->fifo && q->nheap) {
        int64_t d = nb_clock_real_delay_us(q->heap[0]->visible_us);
        if (d < slice) slice = d > 1000 ? d : 1000;
    }
    return slice <= 0 ? 0 : (slice + 999) / 1000;
}

void nb_sqs_waiter_event(sqs_waiter *w, bool cancel)
{
    sqs_queue *q = w->q;
    pthread_mutex_lock(&q->mu);
    if (!w->linked) { /* claimed by a send or deletion: its resume is on the way */
        pthread_mutex_unlock(&q->mu);
        return;
    }
    if (!cancel && nb_mono_us() < w->deadline_us && !maybe_visible(q, nb_clock_now_us())) {
        int64_t ms = waiter_tick_ms(q, w);
        pthread_mutex_unlock(&q->mu);
        nb_call_wait_timer(w->c, ms);
        return;
    }
    if (cancel) w->cancelled = true;
    waiter_unlink(q, w);
    nb_call_resume(w->c);
    pthread_mutex_unlock(&q->mu);
}

static sqs_queue *queue_alloc(const char *account, const char *name)
{
    sqs_queue *q = calloc(1, sizeof(*q));
    if (!q) return NULL;
    snprintf(q->account, sizeof(q->account), "%s", account);
    snprintf(q->name, sizeof(q->name), "%s", name);
    snprintf(q->arn, sizeof(q->arn), "arn:aws:sqs:%s:%s:%s", nb_sqs_region, account, name);
    size_t n = strlen(name);
    q->fifo = n > 5 && !strcmp(name + n - 5, ".fifo");
    atomic_init(&q->refs, 1); /* the directory's */
    pthread_mutex_init(&q->mu, NULL);
    q->next_seq = 1;
    return q;
}

static void queue_free(sqs_queue *q)
{
    for (sqs_msg *m = q->head, *n; m; m = n) {
        n = m->next;
        free(m);
    }
    for (size_t i = 0; i < q->nheap; i++) free(q->heap[i]);
    free(q->heap);
    free(q->byseq.slots);
    for (size_t i = 0; i < NB_ARRAY_LEN(q->dedup); i++)
        for (sqs_dedup *d = q->dedup[i], *n; d; d = n) {
            n = d->next;
            free(d->key);
            free(d);
        }
    json_decref(q->attrs);
    json_decref(q->tags);
    NB_ASSERT(!q->wait_head); /* every waiter holds a reference */
    pthread_mutex_destroy(&q->mu);
    free(q);
}

void nb_sqs_queue_put(sqs_queue *q)
{
    if (q && atomic_fetch_sub(&q->refs, 1) == 1) queue_free(q);
}

sqs_queue *nb_sqs_queue_get(const char *account, const char *name)
{
    if (!account || !name) return NULL;
    pthread_rwlock_rdlock(&dir_lock);
    sqs_queue *q = dir_find(account, name);
    if (q) atomic_fetch_add(&q->refs, 1);
    pthread_rwlock_unlock(&dir_lock);
    return q;
}

sqs_queue *nb_sqs_queue_by_arn(const char *arn)
{
    /* arn:aws:sqs:<region>:<account>:<name> */
    if (!arn || strncmp(arn, "arn:aws:sqs:", 12) != 0) return NULL;
    const char *p = strchr(arn + 12, ':');
    if (!p) return NULL;
    const char *acct = p + 1, *colon = strchr(acct, ':');
    if (!colon || colon - acct != 12) return NULL;
    char account[13];
    memcpy(account, acct, 12);
    account[12] = 0;
    return nb_sqs_queue_get(account, colon + 1);
}

struct q_write {
    sqs_queue *q;
    const char *attrs, *tags;
    int64_t id;
};

static int q_insert_fn(sqlite3 *h, void *arg)
{
    struct q_write *w = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "INSERT INTO queues(account, name, attrs, tags, created, modified) VALUES(?,?,?,?,?,?)");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, w->q->account, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->q->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, w->attrs, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, w->tags, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 5, w->q->created);
    sqlite3_bind_int64(st, 6, w->q->modified);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return rc;
    w->id = sqlite3_last_insert_rowid(h);
    return SQLITE_OK;
}

int nb_sqs_queue_create(const char *account, const char *name, json_t *attrs, json_t *tags,
                        sqs_queue **out)
{
    pthread_rwlock_wrlock(&dir_lock);
    sqs_queue *q = dir_find(account, name);
    if (q) {
        atomic_fetch_add(&q->refs, 1);
        pthread_rwlock_unlock(&dir_lock);
        json_decref(attrs);
        json_decref(tags);
        *out = q;
        return 1;
    }
    if (deleted_recently(account, name, nb_clock_now_us())) {
        pthread_rwlock_unlock(&dir_lock);
        json_decref(attrs);
        json_decref(tags);
        *out = NULL;
        return 2;
    }
    q = queue_alloc(account, name);
    if (!q) {
        pthread_rwlock_unlock(&dir_lock);
        json_decref(attrs);
        json_decref(tags);
        return -1;
    }
    q->attrs = attrs ? attrs : json_object();
    q->tags = tags ? tags : json_object();
    q->created = q->modified = nb_clock_now();
    nb_sqs_queue_apply_attrs(q);
    char *a = json_dumps(q->attrs, JSON_COMPACT), *t = json_dumps(q->tags, JSON_COMPACT);
    struct q_write w = {.q = q, .attrs = a ? a : "{}", .tags = t ? t : "{}"};
    /* Holding the directory lock across the commit keeps two CreateQueue calls of one name
     * from both inserting; queue creation is rare. */
    int rc = nb_db_write(nb_sqs_db, q_insert_fn, &w);
    free(a);
    free(t);
    if (rc != SQLITE_OK) {
        pthread_rwlock_unlock(&dir_lock);
        queue_free(q);
        return -1;
    }
    q->id = w.id;
    dir_add(q);
    atomic_fetch_add(&q->refs, 1);
    pthread_rwlock_unlock(&dir_lock);
    *out = q;
    return 0;
}

static int q_update_fn(sqlite3 *h, void *arg)
{
    struct q_write *w = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "UPDATE queues SET attrs = ?, tags = ?, modified = ? WHERE id = ?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_text(st, 1, w->attrs, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, w->tags, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, w->q->modified);
    sqlite3_bind_int64(st, 4, w->q->id);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int nb_sqs_queue_save(sqs_queue *q)
{
    pthread_mutex_lock(&q->mu);
    char *a = json_dumps(q->attrs, JSON_COMPACT), *t = json_dumps(q->tags, JSON_COMPACT);
    pthread_mutex_unlock(&q->mu);
    struct q_write w = {.q = q, .attrs = a ? a : "{}", .tags = t ? t : "{}"};
    int rc = nb_db_write(nb_sqs_db, q_update_fn, &w);
    free(a);
    free(t);
    return rc == SQLITE_OK ? 0 : -1;
}

static int q_delete_fn(sqlite3 *h, void *arg)
{
    int64_t id = *(int64_t *)arg;
    static const char *const sql[] = {"DELETE FROM queues WHERE id = ?", "DELETE FROM messages WHERE queue = ?",
                                      "DELETE FROM dedup WHERE queue = ?"};
    for (size_t i = 0; i < NB_ARRAY_LEN(sql); i++) {
        sqlite3_stmt *st = nb_db_stmt(h, sql[i]);
        if (!st) return SQLITE_ERROR;
        sqlite3_bind_int64(st, 1, id);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return rc;
    }
    return SQLITE_OK;
}

int nb_sqs_queue_delete(sqs_queue *q)
{
    pthread_rwlock_wrlock(&dir_lock);
    if (q->deleted) {
        pthread_rwlock_unlock(&dir_lock);
        return 0;
    }
    int rc = nb_db_write(nb_sqs_db, q_delete_fn, &q->id);
    if (rc != SQLITE_OK) {
        pthread_rwlock_unlock(&dir_lock);
        return -1;
    }
    dir_remove(q);
    (void)deleted_recently("", "", nb_clock_now_us()); /* drops what has expired: the list stays short */
    deleted_name *d = calloc(1, sizeof(*d));
    if (d) { /* without memory the name is simply free at once */
        snprintf(d->account, sizeof(d->account), "%s", q->account);
        snprintf(d->name, sizeof(d->name), "%s", q->name);
        d->at_us = nb_clock_now_us();
        d->next = recently_deleted;
        recently_deleted = d;
    }
    pthread_mutex_lock(&q->mu);
    q->deleted = true;
    wake(q, -1); /* long pollers leave */
    pthread_mutex_unlock(&q->mu);
    pthread_rwlock_unlock(&dir_lock);
    nb_sqs_queue_put(q); /* the directory's reference */
    return 0;
}

static int cmp_queue_name(const void *a, const void *b)
{
    const sqs_queue *x = *(sqs_queue *const *)a, *y = *(sqs_queue *const *)b;
    return strcmp(x->name, y->name);
}

static sqs_queue **collect(const char *account, const char *prefix, size_t *n)
{
    pthread_rwlock_rdlock(&dir_lock);
    sqs_queue **v = malloc((nqueues + 1) * sizeof(*v));
    size_t k = 0;
    size_t pl = prefix ? strlen(prefix) : 0;
    for (size_t b = 0; v && b < NBUCKETS; b++)
        for (sqs_queue *q = buckets[b]; q; q = q->hnext) {
            if (account && strcmp(q->account, account) != 0) continue;
            if (pl && strncmp(q->name, prefix, pl) != 0) continue;
            atomic_fetch_add(&q->refs, 1);
            v[k++] = q;
        }
    pthread_rwlock_unlock(&dir_lock);
    if (v) qsort(v, k, sizeof(*v), cmp_queue_name);
    *n = k;
    return v;
}

sqs_queue **nb_sqs_queue_list(const char *account, const char *prefix, size_t *n)
{
    return collect(account, prefix, n);
}

sqs_queue **nb_sqs_queue_all(size_t *n) { return collect(NULL, NULL, n); }

/* ---------------------------------------------------------------- persistence of messages */

static int bind_opt(sqlite3_stmt *st, int i, const char *s)
{
    return s ? sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC) : sqlite3_bind_null(st, i);
}

static int insert_msg(sqlite3 *h, int64_t qid, const sqs_msg *m)
{
    sqlite3_stmt *st = nb_db_stmt(h, "INSERT OR REPLACE INTO messages(queue, seq, id, body, attrs, sys_attrs, md5_body,"
                                     " md5_attrs, md5_sys, sent_ms, visible_us, first_recv_ms, recv_count, grp, dedup,"
                                     " seqnum, sender) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, qid);
    sqlite3_bind_int64(st, 2, (int64_t)m->seq);
    sqlite3_bind_text(st, 3, m->id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(st, 4, m->body, (int)m->body_len, SQLITE_STATIC);
    bind_opt(st, 5, m->attrs);
    bind_opt(st, 6, m->sys_attrs);
    sqlite3_bind_text(st, 7, m->md5_body, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 8, m->md5_attrs, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 9, m->md5_sys, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 10, m->sent_ms);
    sqlite3_bind_int64(st, 11, m->visible_us);
    sqlite3_bind_int64(st, 12, m->first_recv_ms);
    sqlite3_bind_int(st, 13, m->receive_count);
    bind_opt(st, 14, m->group);
    bind_opt(st, 15, m->dedup);
    bind_opt(st, 16, m->seqnum[0] ? m->seqnum : NULL);
    bind_opt(st, 17, m->sender);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static int delete_msg(sqlite3 *h, int64_t qid, uint64_t seq)
{
    sqlite3_stmt *st = nb_db_stmt(h, "DELETE FROM messages WHERE queue = ? AND seq = ?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, qid);
    sqlite3_bind_int64(st, 2, (int64_t)seq);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

struct send_job {
    sqs_send *s;
    size_t n;
    int64_t dedup_expires;
};

static int send_fn(sqlite3 *h, void *arg)
{
    struct send_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        sqs_send *s = &j->s[i];
        if (s->dup || s->rc) continue;
        int rc = insert_msg(h, s->q->id, s->m);
        if (rc != SQLITE_OK) return rc;
        if (s->q->fifo && !s->move && s->m->dedup) {
            sqlite3_stmt *st = nb_db_stmt(h, "INSERT OR REPLACE INTO dedup(queue, key, msg_id, seqnum, expires_us) VALUES(?,?,?,?,?)");
            if (!st) return SQLITE_ERROR;
            char key[300];
            if (s->q->dedup_group_scope)
                snprintf(key, sizeof(key), "%s\n%s", s->m->group ? s->m->group : "", s->m->dedup);
            else
                snprintf(key, sizeof(key), "%s", s->m->dedup);
            sqlite3_bind_int64(st, 1, s->q->id);
            sqlite3_bind_text(st, 2, key, -1, SQLITE_TRANSIENT);
            sqlite3_bind_text(st, 3, s->m->id, -1, SQLITE_STATIC);
            sqlite3_bind_text(st, 4, s->m->seqnum, -1, SQLITE_STATIC);
            sqlite3_bind_int64(st, 5, j->dedup_expires);
            rc = sqlite3_step(st);
            sqlite3_reset(st);
            if (rc != SQLITE_DONE) return rc;
        }
    }
    return SQLITE_OK;
}

/* ---------------------------------------------------------------- FIFO deduplication */

static unsigned dedup_bucket(const char *k)
{
    uint32_t h = 2166136261u;
    for (; *k; k++) h = (h ^ (unsigned char)*k) * 16777619u;
    return h % 64;
}

static void dedup_key(const sqs_queue *q, const sqs_msg *m, char *out, size_t n)
{
    if (q->dedup_group_scope)
        snprintf(out, n, "%s\n%s", m->group ? m->group : "", m->dedup);
    else
        snprintf(out, n, "%s", m->dedup);
}

static sqs_dedup *dedup_find(sqs_queue *q, const char *key, int64_t now)
{
    sqs_dedup **pp = &q->dedup[dedup_bucket(key)];
    while (*pp) {
        sqs_dedup *d = *pp;
        if (d->expires_us <= now) { /* expired: drop on the way */
            *pp = d->next;
            free(d->key);
            free(d);
            continue;
        }
        if (!strcmp(d->key, key)) return d;
        pp = &d->next;
    }
    return NULL;
}

static sqs_dedup *dedup_add(sqs_queue *q, const char *key, const char *id, const char *seqnum, int64_t expires)
{
    sqs_dedup *d = calloc(1, sizeof(*d));
    if (!d || !(d->key = strdup(key))) {
        free(d);
        return NULL;
    }
    snprintf(d->msg_id, sizeof(d->msg_id), "%s", id);
    snprintf(d->seqnum, sizeof(d->seqnum), "%s", seqnum ? seqnum : "");
    d->expires_us = expires;
    unsigned b = dedup_bucket(key);
    d->next = q->dedup[b];
    q->dedup[b] = d;
    return d;
}

static void dedup_remove(sqs_queue *q, const char *key)
{
    for (sqs_dedup **pp = &q->dedup[dedup_bucket(key)]; *pp; pp = &(*pp)->next)
        if (!strcmp((*pp)->key, key)) {
            sqs_dedup *d = *pp;
            *pp = d->next;
            free(d->key);
            free(d);
            return;
        }
}

#define DEDUP_WINDOW_US (300 * 1000000LL)
/* FIFO sequence numbers: large and increasing like AWS's (20 digits). */
#define SEQNUM_BASE 18000000000000000000ull

int nb_sqs_enqueue(sqs_send *s, size_t n)
{
    int64_t now = nb_clock_now_us();
    /* reserve: sequence numbers, deduplication entries */
    for (size_t i = 0; i < n; i++) {
        sqs_queue *q = s[i].q;
        sqs_msg *m = s[i].m;
        s[i].dup = false;
        s[i].rc = 0;
        pthread_mutex_lock(&q->mu);
        if (q->deleted) {
            pthread_mutex_unlock(&q->mu);
            s[i].rc = -ENOENT;
            continue;
        }
        m->seq = q->next_seq++;
        if (!s[i].move) {
            m->sent_ms = now / 1000;
            m->visible_us = now + (int64_t)s[i].delay * 1000000;
        } else {
            m->visible_us = now;
        }
        if (q->fifo) {
            snprintf(m->seqnum, sizeof(m->seqnum), "%llu", (unsigned long long)(SEQNUM_BASE + m->seq));
            if (!s[i].move && m->dedup) {
                char key[300];
                dedup_key(q, m, key, sizeof(key));
                sqs_dedup *d = dedup_find(q, key, now);
                if (d) {
                    s[i].dup = true;
                    memcpy(s[i].id, d->msg_id, sizeof(s[i].id));
                    memcpy(s[i].seqnum, d->seqnum, sizeof(s[i].seqnum));
                } else {
                    dedup_add(q, key, m->id, m->seqnum, now + DEDUP_WINDOW_US);
                }
            }
        }
        pthread_mutex_unlock(&q->mu);
        if (!s[i].dup) {
            memcpy(s[i].id, m->id, sizeof(s[i].id));
            memcpy(s[i].seqnum, m->seqnum, sizeof(s[i].seqnum));
        }
    }
    struct send_job j = {s, n, now + DEDUP_WINDOW_US};
    bool any = false;
    for (size_t i = 0; i < n; i++) any |= !s[i].dup && !s[i].rc;
    int rc = any ? nb_db_write(nb_sqs_db, send_fn, &j) : SQLITE_OK;
    for (size_t i = 0; i < n; i++) {
        sqs_queue *q = s[i].q;
        sqs_msg *m = s[i].m;
        if (s[i].dup || s[i].rc) {
            free(m);
            s[i].m = NULL;
            continue;
        }
        pthread_mutex_lock(&q->mu);
        if (rc != SQLITE_OK || q->deleted) {
            if (rc != SQLITE_OK && q->fifo && !s[i].move && m->dedup) {
                char key[300];
                dedup_key(q, m, key, sizeof(key));
                dedup_remove(q, key);
            }
            s[i].rc = rc != SQLITE_OK ? -EIO : -ENOENT;
            pthread_mutex_unlock(&q->mu);
            free(m);
            s[i].m = NULL;
            continue;
        }
        place(q, m, now);
        /* One waiting receive per message that can be received now; delayed ones are found
         * by the waiters' timers. */
        if (m->visible_us <= now) wake(q, 1);
        pthread_mutex_unlock(&q->mu);
        s[i].m = NULL; /* owned by the queue now */
    }
    return rc == SQLITE_OK ? 0 : -1;
}

/* ---------------------------------------------------------------- lazy writes */

/* Receive bookkeeping (visibility, receive counts) and deletes are written behind: a flusher
 * thread commits whatever accumulated while the previous commit ran, and the call answers
 * without waiting for the fsync. Losing them in a crash only means a message is delivered
 * again, which SQS's at-least-once contract allows; sends, by contrast, are acknowledged only
 * once durable. A clean shutdown drains the backlog. This keeps a send+receive+delete cycle at
 * one synchronous commit instead of three. */
enum lazy_kind { LZ_UPDATE, LZ_DELETE };
struct lazy {
    int kind;
    int64_t qid;
    uint64_t seq;
    int64_t visible_us, first_recv_ms;
    int recv_count;
};
static struct lazy *lz_buf;
static size_t lz_len, lz_cap;
static pthread_mutex_t lz_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t lz_cv = PTHREAD_COND_INITIALIZER;
static pthread_t lz_thread;
static bool lz_running, lz_stop;

static void lazy_push(const struct lazy *l)
{
    pthread_mutex_lock(&lz_mu);
    if (lz_len == lz_cap) {
        size_t nc = lz_cap ? lz_cap * 2 : 256;
        struct lazy *nb = realloc(lz_buf, nc * sizeof(*nb));
        if (!nb) {
            pthread_mutex_unlock(&lz_mu);
            nb_warn("sqs: out of memory: a receive/delete is not persisted");
            return;
        }
        lz_buf = nb;
        lz_cap = nc;
    }
    lz_buf[lz_len++] = *l;
    if (lz_len == 1) pthread_cond_signal(&lz_cv);
    pthread_mutex_unlock(&lz_mu);
}

struct lazy_batch {
    struct lazy *v;
    size_t n;
};

static int delete_msg(sqlite3 *h, int64_t qid, uint64_t seq);

static int lazy_fn(sqlite3 *h, void *arg)
{
    struct lazy_batch *b = arg;
    sqlite3_stmt *up = nb_db_stmt(h, "UPDATE messages SET visible_us = ?, recv_count = ?, first_recv_ms = ? WHERE queue = ? AND seq = ?");
    if (!up) return SQLITE_ERROR;
    for (size_t i = 0; i < b->n; i++) {
        const struct lazy *l = &b->v[i];
        int rc;
        if (l->kind == LZ_DELETE) {
            rc = delete_msg(h, l->qid, l->seq);
        } else {
            sqlite3_bind_int64(up, 1, l->visible_us);
            sqlite3_bind_int(up, 2, l->recv_count);
            sqlite3_bind_int64(up, 3, l->first_recv_ms);
            sqlite3_bind_int64(up, 4, l->qid);
            sqlite3_bind_int64(up, 5, (int64_t)l->seq);
            rc = sqlite3_step(up) == SQLITE_DONE ? SQLITE_OK : SQLITE_ERROR;
            sqlite3_reset(up);
        }
        if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
}

/* Commit what is pending now; true if there was anything. */
static bool lazy_flush_once(void)
{
    pthread_mutex_lock(&lz_mu);
    struct lazy_batch b = {lz_buf, lz_len};
    lz_buf = NULL;
    lz_len = lz_cap = 0;
    pthread_mutex_unlock(&lz_mu);
    if (!b.n) {
        free(b.v);
        return false;
    }
    if (nb_sqs_db && nb_db_write(nb_sqs_db, lazy_fn, &b) != SQLITE_OK)
        nb_warn("sqs: %zu receive/delete updates could not be persisted", b.n);
    free(b.v);
    return true;
}

static void *lazy_main(void *arg)
{
    (void)arg;
    for (;;) {
        pthread_mutex_lock(&lz_mu);
        while (!lz_len && !lz_stop) pthread_cond_wait(&lz_cv, &lz_mu);
        bool done = lz_stop && !lz_len;
        pthread_mutex_unlock(&lz_mu);
        if (done) return NULL;
        lazy_flush_once();
    }
}

static void lazy_start(void)
{
    lz_stop = false;
    lz_running = pthread_create(&lz_thread, NULL, lazy_main, NULL) == 0;
}

static void lazy_stop(void)
{
    if (lz_running) {
        pthread_mutex_lock(&lz_mu);
        lz_stop = true;
        pthread_cond_signal(&lz_cv);
        pthread_mutex_unlock(&lz_mu);
        pthread_join(lz_thread, NULL);
        lz_running = false;
    }
    lazy_flush_once();
}

/* ---------------------------------------------------------------- receive */

struct recv_job {
    int64_t qid;
    sqs_msg **m; /* copies */
    size_t n;
    uint64_t *dels; /* expired or moved to the DLQ: rows to delete */
    size_t ndels;
};

static int recv_fn(sqlite3 *h, void *arg)
{
    struct recv_job *j = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "UPDATE messages SET visible_us = ?, recv_count = ?, first_recv_ms = ? WHERE queue = ? AND seq = ?");
    if (!st) return SQLITE_ERROR;
    for (size_t i = 0; i < j->n; i++) {
        sqlite3_bind_int64(st, 1, j->m[i]->visible_us);
        sqlite3_bind_int(st, 2, j->m[i]->receive_count);
        sqlite3_bind_int64(st, 3, j->m[i]->first_recv_ms);
        sqlite3_bind_int64(st, 4, j->qid);
        sqlite3_bind_int64(st, 5, (int64_t)j->m[i]->seq);
        int rc = sqlite3_step(st);
        sqlite3_reset(st);
        if (rc != SQLITE_DONE) return rc;
    }
    for (size_t i = 0; i < j->ndels; i++) {
        int rc = delete_msg(h, j->qid, j->dels[i]);
        if (rc != SQLITE_OK) return rc;
    }
    return SQLITE_OK;
}

static void take(sqs_queue *q, sqs_msg *m, int visibility, int64_t now)
{
    if (!q->fifo) list_unlink(q, m);
    m->inflight = true;
    m->receive_count++;
    if (!m->first_recv_ms) m->first_recv_ms = now / 1000;
    m->recv_us = now;
    m->visible_us = now + (int64_t)visibility * 1000000;
    uint32_t r;
    nb_random(&r, sizeof(r));
    m->nonce = r | 1;
    if (!q->fifo && heap_push(q, m) < 0) {
        m->inflight = false;
        list_append(q, m);
    }
}

/* Where a receive puts the messages it must not return. */
typedef struct aside {
    int64_t expire_before_ms; /* sent before this: past retention */
    bool dlq_on;
    size_t dlq_cap;
    sqs_msg **dlq;
    size_t *ndlq;
    uint64_t *dead;
    size_t *ndead, dead_cap;
} aside;

/* A message past retention goes to a->dead (to delete), one past maxReceiveCount to a->dlq
 * (to move): true when m was taken out of the queue so. mu held. */
static bool set_aside(sqs_queue *q, sqs_msg *m, const aside *a)
{
    if (m->sent_ms < a->expire_before_ms && *a->ndead < a->dead_cap) {
        detach(q, m);
        a->dead[(*a->ndead)++] = m->seq;
        free(m);
        return true;
    }
    if (a->dlq_on && m->receive_count >= q->max_receive && *a->ndlq < a->dlq_cap) {
        detach(q, m);
        a->dlq[(*a->ndlq)++] = m;
        return true;
    }
    return false;
}

/* Collect what a receive takes (mu held). Messages past retention go to *dead (to delete),
 * messages past maxReceiveCount to *dlq (to move). */
static int collect_visible(sqs_queue *q, int max, int visibility, int64_t now, sqs_msg **out, sqs_msg **dlq,
                           size_t *ndlq, uint64_t *dead, size_t *ndead, size_t deadcap)
{
    int got = 0;
    promote(q, now);
    aside a = {.expire_before_ms = now / 1000 - (int64_t)q->retention * 1000,
               .dlq_on = q->max_receive > 0 && q->dlq_arn[0] && strcmp(q->dlq_arn, q->arn) != 0,
               .dlq_cap = (size_t)max, .dlq = dlq, .ndlq = ndlq,
               .dead = dead, .ndead = ndead, .dead_cap = deadcap};
    if (!q->fifo) {
        while (got < max && q->head) {
            sqs_msg *m = q->head;
            if (set_aside(q, m, &a)) continue;
            take(q, m, visibility, now);
            out[got] = msg_copy(m);
            if (out[got]) got++;
        }
        return got;
    }
    /* FIFO: the first visible messages in send order whose group has none in flight. AWS
     * returns as many of one group as it can, then (room left) goes on to the next groups: a
     * pass per group, each skipping the groups already served. */
    const char *done[10];
    size_t ndone = 0;
    for (;;) {
        const char *blocked[64];
        size_t nblocked = 0;
        const char *taken_group = NULL;
        for (sqs_msg *m = q->head, *next; m && got < max; m = next) {
            next = m->next;
            const char *g = m->group ? m->group : "";
            bool is_blocked = false;
            for (size_t i = 0; i < nblocked; i++)
                if (!strcmp(blocked[i], g)) is_blocked = true;
            for (size_t i = 0; i < ndone; i++)
                if (!strcmp(done[i], g)) is_blocked = true;
            if (is_blocked) continue;
            if (m->visible_us > now) {
                if (nblocked < NB_ARRAY_LEN(blocked))
                    blocked[nblocked++] = g;
                else
                    break;
                continue;
            }
            if (set_aside(q, m, &a)) continue;
            if (taken_group && strcmp(taken_group, g) != 0) continue;
            taken_group = g;
            take(q, m, visibility, now);
            out[got] = msg_copy(m);
            if (out[got]) got++;
        }
        if (!taken_group || got >= max || ndone == NB_ARRAY_LEN(done)) break;
        done[ndone++] = taken_group;
    }
    return got;
}

/* m as it enters a dead-letter queue: the DeadLetterQueueSourceArn system attribute names the
 * queue it came from (kept with the other system attributes; MD5OfMessageSystemAttributes, an
 * answer of the send, is not recomputed). Frees m and returns the new message (m itself if
 * memory is short). */
static sqs_msg *with_dlq_source(sqs_msg *m, const char *src_arn)
{
    json_t *sys = m->sys_attrs ? json_loads(m->sys_attrs, 0, NULL) : NULL;
    if (!json_is_object(sys)) {
        json_decref(sys);
        sys = json_object();
    }
    json_object_set_new(sys, "DeadLetterQueueSourceArn",
                        json_pack("{s:s, s:s}", "DataType", "String", "StringValue", src_arn));
    char *text = json_dumps(sys, JSON_COMPACT);
    json_decref(sys);
    sqs_msg *c = text ? msg_copy_sys(m, text) : NULL;
    free(text);
    if (!c) return m;
    free(m);
    return c;
}

static void move_to_dlq(sqs_queue *q, sqs_msg **dlq, size_t n)
{
    sqs_queue *d = nb_sqs_queue_by_arn(q->dlq_arn);
    if (!d) { /* no DLQ after all: put them back */
        pthread_mutex_lock(&q->mu);
        for (size_t i = 0; i < n; i++) place(q, dlq[i], nb_clock_now_us());
        pthread_mutex_unlock(&q->mu);
        return;
    }
    sqs_send *s = calloc(n, sizeof(*s));
    uint64_t *seqs = malloc(n * sizeof(*seqs));
    if (!s || !seqs) {
        free(s);
        free(seqs);
        nb_sqs_queue_put(d);
        pthread_mutex_lock(&q->mu);
        for (size_t i = 0; i < n; i++) place(q, dlq[i], nb_clock_now_us());
        pthread_mutex_unlock(&q->mu);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        seqs[i] = dlq[i]->seq;
        dlq[i] = with_dlq_source(dlq[i], q->arn);
        dlq[i]->inflight = false;
        dlq[i]->heap_idx = -1;
        dlq[i]->receive_count = 0;
        dlq[i]->first_recv_ms = 0;
        if (d->fifo && !dlq[i]->group) {
            /* a standard queue's message cannot go to a FIFO DLQ (AWS refuses the policy) */
        }
        s[i] = (sqs_send){.q = d, .m = dlq[i], .move = true};
    }
    nb_sqs_enqueue(s, n);
    struct recv_job j = {.qid = q->id, .dels = seqs, .ndels = n};
    nb_db_write(nb_sqs_db, recv_fn, &j);
    free(s);
    free(seqs);
    nb_sqs_queue_put(d);
}

int nb_sqs_receive(sqs_queue *q, int max, int visibility, sqs_waiter *w, sqs_msg **out)
{
    sqs_msg *dlq[10];
    uint64_t dead[64];
    for (;;) {
        size_t ndlq = 0, ndead = 0;
        int64_t now = nb_clock_now_us();
        pthread_mutex_lock(&q->mu);
        if (q->deleted) {
            pthread_mutex_unlock(&q->mu);
            return -1;
        }
        int got = collect_visible(q, max, visibility, now, out, dlq, &ndlq, dead, &ndead, NB_ARRAY_LEN(dead));
        if (got == 0 && ndlq == 0 && ndead == 0 && w && nb_mono_us() < w->deadline_us) {
            /* Nothing yet: wait without a thread, in line after earlier waiters. */
            w->q = q;
            w->prev = q->wait_tail;
            w->next = NULL;
            if (q->wait_tail)
                q->wait_tail->next = w;
            else
                q->wait_head = w;
            q->wait_tail = w;
            w->linked = true;
            w->tick_ms = waiter_tick_ms(q, w);
            pthread_mutex_unlock(&q->mu);
            return NB_SQS_WAITING;
        }
        pthread_mutex_unlock(&q->mu);
        if (ndlq) move_to_dlq(q, dlq, ndlq);
        for (int i = 0; i < got; i++)
            lazy_push(&(struct lazy){LZ_UPDATE, q->id, out[i]->seq, out[i]->visible_us, out[i]->first_recv_ms,
                                     out[i]->receive_count});
        for (size_t i = 0; i < ndead; i++) lazy_push(&(struct lazy){LZ_DELETE, q->id, dead[i], 0, 0, 0});
        if (got || (ndlq == 0 && ndead == 0)) return got;
    }
}

static sqs_attempt *attempt_find(sqs_queue *q, const char *id, int64_t now)
{
    for (size_t i = 0; i < NB_ARRAY_LEN(q->attempts); i++)
        if (q->attempts[i].expires_us > now && !strcmp(q->attempts[i].id, id)) return &q->attempts[i];
    return NULL;
}

int nb_sqs_receive_retry(sqs_queue *q, const char *attempt, int visibility, sqs_msg **out)
{
    int64_t now = nb_clock_now_us();
    int got = 0;
    struct lazy upd[10];
    pthread_mutex_lock(&q->mu);
    sqs_attempt *a = q->deleted ? NULL : attempt_find(q, attempt, now);
    bool same = a && a->n > 0;
    for (int i = 0; same && i < a->n; i++) {
        sqs_msg *m = map_get(&q->byseq, a->seq[i]);
        same = m && m->inflight && m->nonce == a->nonce[i] && m->visible_us == a->visible_us[i] && m->visible_us > now;
    }
    for (int i = 0; same && i < a->n; i++) {
        sqs_msg *m = map_get(&q->byseq, a->seq[i]);
        m->visible_us = a->visible_us[i] = now + (int64_t)visibility * 1000000;
        upd[i] = (struct lazy){LZ_UPDATE, q->id, m->seq, m->visible_us, m->first_recv_ms, m->receive_count};
        out[got] = msg_copy(m);
        if (out[got]) got++;
    }
    pthread_mutex_unlock(&q->mu);
    for (int i = 0; same && i < a->n; i++) lazy_push(&upd[i]);
    return got;
}

void nb_sqs_receive_record(sqs_queue *q, const char *attempt, sqs_msg *const *got, int n)
{
    int64_t now = nb_clock_now_us();
    pthread_mutex_lock(&q->mu);
    sqs_attempt *a = attempt_find(q, attempt, now);
    if (!a) a = &q->attempts[q->next_attempt++ % NB_ARRAY_LEN(q->attempts)];
    snprintf(a->id, sizeof(a->id), "%s", attempt);
    a->expires_us = now + 300 * 1000000ll;
    a->n = n > 10 ? 10 : n;
    for (int i = 0; i < a->n; i++) {
        a->seq[i] = got[i]->seq;
        a->nonce[i] = got[i]->nonce;
        a->visible_us[i] = got[i]->visible_us;
    }
    pthread_mutex_unlock(&q->mu);
}

/* ---------------------------------------------------------------- receipts, delete, visibility */

char *nb_sqs_receipt(nb_arena *a, const sqs_queue *q, const sqs_msg *m)
{
    /* Opaque to clients like AWS's: the queue row, the message's seq and the nonce of this
     * receive, plus the message id, base64-encoded. */
    char raw[160];
    int n = snprintf(raw, sizeof(raw), "nb1:%lld:%llu:%u:%s", (long long)q->id, (unsigned long long)m->seq,
                     m->nonce, m->id);
    char *out = nb_arena_alloc(a, nb_base64_encoded_len((size_t)n) + 1);
    if (out) nb_base64_encode((const unsigned char *)raw, (size_t)n, out);
    return out;
}

int nb_sqs_receipt_parse(const char *h, int64_t *qid, uint64_t *seq, uint32_t *nonce)
{
    size_t n = h ? strlen(h) : 0;
    if (n == 0 || n > 400) return -1;
    unsigned char raw[320];
    ssize_t m = nb_base64_decode(h, n, raw);
    if (m < 5 || m >= (ssize_t)sizeof(raw)) return -1;
    raw[m] = 0;
    long long q;
    unsigned long long s;
    unsigned int nc;
    if (sscanf((char *)raw, "nb1:%lld:%llu:%u:", &q, &s, &nc) != 3) return -1;
    *qid = q;
    *seq = s;
    *nonce = nc;
    return 0;
}

int nb_sqs_delete(sqs_queue *q, uint64_t seq, uint32_t nonce)
{
    pthread_mutex_lock(&q->mu);
    sqs_msg *m = map_get(&q->byseq, seq);
    /* A stale handle (the message was received again since) still deletes it on standard
     * queues, as AWS does; FIFO queues insist on the current one while it is in flight. */
    if (m && q->fifo && m->inflight && m->visible_us > nb_clock_now_us() && m->nonce != nonce) m = NULL;
    if (m) detach(q, m);
    pthread_mutex_unlock(&q->mu);
    if (!m) return 0;
    free(m);
    lazy_push(&(struct lazy){LZ_DELETE, q->id, seq, 0, 0, 0});
    return 0;
}

int nb_sqs_change_visibility(sqs_queue *q, uint64_t seq, uint32_t nonce, int timeout)
{
    int64_t now = nb_clock_now_us();
    pthread_mutex_lock(&q->mu);
    sqs_msg *m = map_get(&q->byseq, seq);
    if (!m) {
        pthread_mutex_unlock(&q->mu);
        return 2;
    }
    /* a handle of an earlier receive must not move the current receiver's timeout */
    if (m->nonce != nonce) {
        pthread_mutex_unlock(&q->mu);
        return 4;
    }
    if (!m->inflight || m->visible_us <= now) {
        pthread_mutex_unlock(&q->mu);
        return 1;
    }
    /* AWS: a message stays in flight at most 12 hours from the receive */
    if (m->recv_us && now + (int64_t)timeout * 1000000 > m->recv_us + 43200 * 1000000ll) {
        pthread_mutex_unlock(&q->mu);
        return 3;
    }
    m->visible_us = now + (int64_t)timeout * 1000000;
    if (m->heap_idx >= 0) heap_fix(q, m);
    if (timeout == 0) wake(q, 1);
    struct lazy l = {LZ_UPDATE, q->id, seq, m->visible_us, m->first_recv_ms, m->receive_count};
    pthread_mutex_unlock(&q->mu);
    lazy_push(&l);
    return 0;
}

/* Take every message out of q (mu held), returned as a list through ->next. */
static sqs_msg *detach_all(sqs_queue *q)
{
    sqs_msg *all = NULL;
    for (sqs_msg *m = q->head, *n; m; m = n) {
        n = m->next;
        m->next = all;
        all = m;
    }
    for (size_t i = 0; i < q->nheap; i++) {
        q->heap[i]->heap_idx = -1;
        q->heap[i]->next = all;
        all = q->heap[i];
    }
    q->head = q->tail = NULL;
    q->nheap = 0;
    free(q->byseq.slots);
    memset(&q->byseq, 0, sizeof(q->byseq));
    q->count = 0;
    return all;
}

struct purge_job {
    int64_t qid;
    uint64_t below;
};

static int purge_fn(sqlite3 *h, void *arg)
{
    struct purge_job *j = arg;
    sqlite3_stmt *st = nb_db_stmt(h, "DELETE FROM messages WHERE queue = ? AND seq < ?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, j->qid);
    sqlite3_bind_int64(st, 2, (int64_t)j->below);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int nb_sqs_purge(sqs_queue *q)
{
    pthread_mutex_lock(&q->mu);
    sqs_msg *all = detach_all(q);
    struct purge_job j = {q->id, q->next_seq};
    pthread_mutex_unlock(&q->mu);
    for (sqs_msg *n; all; all = n) {
        n = all->next;
        free(all);
    }
    return nb_db_write(nb_sqs_db, purge_fn, &j) == SQLITE_OK ? 0 : -1;
}

long nb_sqs_move_all(sqs_queue *src, sqs_queue *dst)
{
    pthread_mutex_lock(&src->mu);
    sqs_msg *all = detach_all(src);
    struct purge_job j = {src->id, src->next_seq};
    pthread_mutex_unlock(&src->mu);
    size_t n = 0;
    for (sqs_msg *m = all; m; m = m->next) n++;
    if (!n) return 0;
    sqs_send *s = calloc(n, sizeof(*s));
    sqs_msg **v = calloc(n, sizeof(*v));
    if (!s || !v) {
        free(s);
        free(v);
        pthread_mutex_lock(&src->mu);
        for (sqs_msg *m = all, *nx; m; m = nx) {
            nx = m->next;
            place(src, m, nb_clock_now_us());
        }
        pthread_mutex_unlock(&src->mu);
        return -1;
    }
    size_t k = n;
    for (sqs_msg *m = all; m; m = m->next) v[--k] = m; /* back to send order */
    for (size_t i = 0; i < n; i++) {
        v[i]->inflight = false;
        v[i]->receive_count = 0;
        v[i]->first_recv_ms = 0;
        s[i] = (sqs_send){.q = dst, .m = v[i], .move = true};
    }
    int rc = nb_sqs_enqueue(s, n);
    free(s);
    free(v);
    if (rc == 0) nb_db_write(nb_sqs_db, purge_fn, &j);
    return rc == 0 ? (long)n : -1;
}

long nb_sqs_move_some(sqs_queue *src, sqs_queue *dst, long max)
{
    if (max <= 0) return 0;
    int64_t now = nb_clock_now_us();
    sqs_msg **v = calloc((size_t)max, sizeof(*v));
    sqs_send *s = calloc((size_t)max, sizeof(*s));
    uint64_t *seqs = calloc((size_t)max, sizeof(*seqs));
    if (!v || !s || !seqs) {
        free(v);
        free(s);
        free(seqs);
        return -1;
    }
    size_t n = 0;
    pthread_mutex_lock(&src->mu);
    promote(src, now);
    /* the oldest visible ones: a standard queue's ready list holds only those, a FIFO
     * queue's list every message in order (in-flight ones stay) */
    for (sqs_msg *m = src->head, *nx; m && n < (size_t)max; m = nx) {
        nx = m->next;
        if (m->visible_us > now) continue;
        detach(src, m);
        seqs[n] = m->seq;
        v[n++] = m;
    }
    pthread_mutex_unlock(&src->mu);
    /* nb_sqs_enqueue frees what it cannot store: keep a copy of each to put back */
    for (size_t i = 0; i < n; i++) {
        sqs_msg *keep = msg_copy(v[i]);
        v[i]->inflight = false;
        v[i]->heap_idx = -1;
        v[i]->receive_count = 0;
        v[i]->first_recv_ms = 0;
        s[i] = (sqs_send){.q = dst, .m = v[i], .move = true};
        v[i] = keep;
    }
    int rc = n ? nb_sqs_enqueue(s, n) : 0;
    size_t moved = 0, back = 0;
    for (size_t i = 0; i < n; i++) {
        if (rc == 0 && s[i].rc == 0) {
            seqs[moved++] = seqs[i];
            free(v[i]);
        } else if (v[i]) {
            v[back++] = v[i];
        }
    }
    if (back) {
        pthread_mutex_lock(&src->mu);
        for (size_t i = 0; i < back; i++) place(src, v[i], nb_clock_now_us());
        pthread_mutex_unlock(&src->mu);
    }
    if (moved) {
        struct recv_job j = {.qid = src->id, .dels = seqs, .ndels = moved};
        nb_db_write(nb_sqs_db, recv_fn, &j);
    }
    free(v);
    free(s);
    free(seqs);
    return rc < 0 && !moved ? -1 : (long)moved;
}

void nb_sqs_counts(sqs_queue *q, size_t *visible, size_t *inflight, size_t *delayed)
{
    int64_t now = nb_clock_now_us();
    size_t v = 0, f = 0, d = 0;
    pthread_mutex_lock(&q->mu);
    promote(q, now);
    for (sqs_msg *m = q->head; m; m = m->next) {
        if (m->visible_us <= now)
            v++;
        else if (m->inflight)
            f++;
        else
            d++;
    }
    for (size_t i = 0; i < q->nheap; i++) {
        if (q->heap[i]->inflight)
            f++;
        else
            d++;
    }
    pthread_mutex_unlock(&q->mu);
    *visible = v;
    *inflight = f;
    *delayed = d;
}

struct sweep_job {
    int64_t qid;
    uint64_t *seqs;
    size_t n;
    int64_t now;
};

static int sweep_fn(sqlite3 *h, void *arg)
{
    struct sweep_job *j = arg;
    for (size_t i = 0; i < j->n; i++) {
        int rc = delete_msg(h, j->qid, j->seqs[i]);
        if (rc != SQLITE_OK) return rc;
    }
    sqlite3_stmt *st = nb_db_stmt(h, "DELETE FROM dedup WHERE queue = ? AND expires_us <= ?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, j->qid);
    sqlite3_bind_int64(st, 2, j->now);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

void nb_sqs_sweep(void)
{
    size_t n;
    sqs_queue **all = nb_sqs_queue_all(&n);
    if (!all) return;
    int64_t now = nb_clock_now_us();
    for (size_t i = 0; i < n; i++) {
        sqs_queue *q = all[i];
        size_t cap = 256, k = 0;
        uint64_t *seqs = malloc(cap * sizeof(*seqs));
        pthread_mutex_lock(&q->mu);
        int64_t before_ms = now / 1000 - (int64_t)q->retention * 1000;
        /* every message, whichever structure holds it */
        size_t total = q->count;
        sqs_msg **v = malloc((total + 1) * sizeof(*v));
        size_t nv = 0;
        for (sqs_msg *m = q->head; v && m; m = m->next) v[nv++] = m;
        for (size_t h = 0; v && h < q->nheap; h++) v[nv++] = q->heap[h];
        for (size_t x = 0; v && seqs && x < nv; x++) {
            if (v[x]->sent_ms >= before_ms) continue;
            if (k == cap) {
                uint64_t *ns = realloc(seqs, cap * 2 * sizeof(*ns));
                if (!ns) break;
                seqs = ns;
                cap *= 2;
            }
            seqs[k++] = v[x]->seq;
            detach(q, v[x]);
            free(v[x]);
        }
        for (size_t b = 0; b < NB_ARRAY_LEN(q->dedup); b++) {
            sqs_dedup **pp = &q->dedup[b];
            while (*pp) {
                sqs_dedup *d = *pp;
                if (d->expires_us <= now) {
                    *pp = d->next;
                    free(d->key);
                    free(d);
                } else {
                    pp = &d->next;
                }
            }
        }
        pthread_mutex_unlock(&q->mu);
        free(v);
        if (seqs && (k || q->fifo)) {
            struct sweep_job j = {q->id, seqs, k, now};
            nb_db_write(nb_sqs_db, sweep_fn, &j);
        }
        free(seqs);
        nb_sqs_queue_put(q);
    }
    free(all);
}

/* ---------------------------------------------------------------- open, load, reset */

static int load_fn(sqlite3 *h, void *arg)
{
    (void)arg;
    sqlite3_stmt *st = nb_db_stmt(h, "SELECT id, account, name, attrs, tags, created, modified FROM queues");
    if (!st) return SQLITE_ERROR;
    while (sqlite3_step(st) == SQLITE_ROW) {
        sqs_queue *q = queue_alloc((const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2));
        if (!q) continue;
        q->id = sqlite3_column_int64(st, 0);
        q->attrs = json_loads((const char *)sqlite3_column_text(st, 3), 0, NULL);
        q->tags = json_loads((const char *)sqlite3_column_text(st, 4), 0, NULL);
        if (!q->attrs) q->attrs = json_object();
        if (!q->tags) q->tags = json_object();
        q->created = sqlite3_column_int64(st, 5);
        q->modified = sqlite3_column_int64(st, 6);
        nb_sqs_queue_apply_attrs(q);
        dir_add(q);
    }
    sqlite3_reset(st);
    st = nb_db_stmt(h, "SELECT queue, seq, id, body, attrs, sys_attrs, md5_body, md5_attrs, md5_sys, sent_ms,"
                       " visible_us, first_recv_ms, recv_count, grp, dedup, seqnum, sender FROM messages ORDER BY queue, seq");
    if (!st) return SQLITE_ERROR;
    int64_t now = nb_clock_now_us();
    sqs_queue *q = NULL;
    /* queue id -> queue: the rows come grouped by queue */
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t qid = sqlite3_column_int64(st, 0);
        if (!q || q->id != qid) {
            q = NULL;
            for (size_t b = 0; b < NBUCKETS && !q; b++)
                for (sqs_queue *x = buckets[b]; x; x = x->hnext)
                    if (x->id == qid) {
                        q = x;
                        break;
                    }
            if (!q) continue;
        }
#define T(i) ((const char *)sqlite3_column_text(st, i))
        sqs_msg *m = nb_sqs_msg_new(sqlite3_column_blob(st, 3) ? sqlite3_column_blob(st, 3) : "",
                                    (size_t)sqlite3_column_bytes(st, 3), T(4), T(5), T(13), T(14), T(16));
        if (!m) continue;
        m->seq = (uint64_t)sqlite3_column_int64(st, 1);
        snprintf(m->id, sizeof(m->id), "%s", T(2) ? T(2) : "");
        snprintf(m->md5_body, 33, "%s", T(6) ? T(6) : "");
        snprintf(m->md5_attrs, 33, "%s", T(7) ? T(7) : "");
        snprintf(m->md5_sys, 33, "%s", T(8) ? T(8) : "");
        m->sent_ms = sqlite3_column_int64(st, 9);
        m->visible_us = sqlite3_column_int64(st, 10);
        m->first_recv_ms = sqlite3_column_int64(st, 11);
        m->receive_count = sqlite3_column_int(st, 12);
        m->inflight = m->receive_count > 0 && m->visible_us > now;
        snprintf(m->seqnum, sizeof(m->seqnum), "%s", T(15) ? T(15) : "");
#undef T
        if (m->seq >= q->next_seq) q->next_seq = m->seq + 1;
        place(q, m, now);
    }
    sqlite3_reset(st);
    st = nb_db_stmt(h, "SELECT queue, key, msg_id, seqnum, expires_us FROM dedup WHERE expires_us > ?");
    if (!st) return SQLITE_ERROR;
    sqlite3_bind_int64(st, 1, now);
    while (sqlite3_step(st) == SQLITE_ROW) {
        int64_t qid = sqlite3_column_int64(st, 0);
        for (size_t b = 0; b < NBUCKETS; b++)
            for (sqs_queue *x = buckets[b]; x; x = x->hnext)
                if (x->id == qid)
                    dedup_add(x, (const char *)sqlite3_column_text(st, 1), (const char *)sqlite3_column_text(st, 2),
                              (const char *)sqlite3_column_text(st, 3), sqlite3_column_int64(st, 4));
    }
    sqlite3_reset(st);
    return SQLITE_OK;
}

/* Queues whose rows were deleted keep sequence numbers growing: next_seq after a restart is
 * above every stored row, which is all uniqueness needs. */
int nb_sqs_store_open(const char *dir, char **err)
{
    char path[1200];
    snprintf(path, sizeof(path), "%s/sqs.db", dir);
    nb_sqs_db = nb_db_open(path, migrations, NB_ARRAY_LEN(migrations), err);
    if (!nb_sqs_db) return -1;
    pthread_rwlock_wrlock(&dir_lock);
    int rc = nb_db_read(nb_sqs_db, load_fn, NULL);
    pthread_rwlock_unlock(&dir_lock);
    if (rc != SQLITE_OK) {
        *err = strdup("cannot load the SQS queues");
        return -1;
    }
    lazy_start();
    return 0;
}

static void drop_all(void)
{
    pthread_rwlock_wrlock(&dir_lock);
    for (size_t b = 0; b < NBUCKETS; b++) {
        for (sqs_queue *q = buckets[b], *n; q; q = n) {
            n = q->hnext;
            pthread_mutex_lock(&q->mu);
            q->deleted = true;
            wake(q, -1);
            pthread_mutex_unlock(&q->mu);
            nb_sqs_queue_put(q);
        }
        buckets[b] = NULL;
    }
    nqueues = 0;
    deleted_forget_all();
    pthread_rwlock_unlock(&dir_lock);
}

void nb_sqs_store_close(void)
{
    lazy_stop();
    drop_all();
    nb_db_close(nb_sqs_db);
    nb_sqs_db = NULL;
}

int nb_sqs_store_reset(void)
{
    lazy_flush_once(); /* what is pending refers to rows about to go anyway */
    drop_all();
    return nb_db_wipe(nb_sqs_db) == SQLITE_OK ? 0 : -1;
}
