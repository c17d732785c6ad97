/* sqs_internal.h: SQS's in-memory queues (the working set, rebuilt from SQLite at start) and
 * the store functions the handlers use. Every change is written through to SQLite (group
 * commit) before the call that made it answers, so queues and messages survive restarts.
 *
 * Locking: one global rwlock guards the queue directory (name -> queue); each queue has its
 * own mutex for its messages and the list of long-polling receivers waiting on it.
 * No thread ever holds two queue mutexes at once. Queues are reference counted: a handler
 * holds a reference from lookup to the end of the call, so DeleteQueue never frees a queue
 * under a running call. */
#ifndef NB_SVC_SQS_INTERNAL_H
#define NB_SVC_SQS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "store/db.h"
#include "svc/service.h"
#include "svc/sqs/sqs.h"

typedef struct sqs_msg {
    struct sqs_msg *prev, *next; /* standard: ready list; FIFO: every message in seq order */
    ssize_t heap_idx;            /* standard: index in the waiting heap, -1 when ready */
    uint64_t seq;                /* per-queue insertion number, the row key */
    char id[37];
    char *body;
    size_t body_len;
    char *attrs;     /* MessageAttributes as JSON text, NULL if none */
    char *sys_attrs; /* MessageSystemAttributes (AWSTraceHeader) as JSON text, or NULL */
    char md5_body[33], md5_attrs[33], md5_sys[33];
    int64_t sent_ms;
    int64_t visible_us; /* region time from which it may be received */
    int64_t first_recv_ms;
    int64_t recv_us; /* region time of the receive that put it in flight (not persisted) */
    int receive_count;
    bool inflight; /* received, visibility timeout running */
    char *group, *dedup; /* FIFO */
    char seqnum[24];     /* FIFO SequenceNumber */
    char *sender;
    uint32_t nonce; /* part of the current receipt handle */
} sqs_msg;

/* Messages of a queue by seq: open addressing, linear probing, backward-shift deletion. */
typedef struct sqs_msgmap {
    sqs_msg **slots;
    size_t cap, len;
} sqs_msgmap;

typedef struct sqs_dedup {
    struct sqs_dedup *next;
    char *key; /* dedup id (or group + dedup with DeduplicationScope messageGroup) */
    char msg_id[37];
    char seqnum[24];
    int64_t expires_us;
} sqs_dedup;

/* A long-polling ReceiveMessage that found nothing: the call waits without a thread
 * (NB_CALL_PENDING) and is resumed by a send, a visibility change to 0, the queue's deletion,
 * its deadline, or a message becoming visible (the call's timer, at most 1 s apart so that
 * region clock jumps are noticed). Owned by the call (c->wait_ud); while linked it sits in
 * its queue's list, and whoever unlinks it (under q->mu) resumes the call, exactly once. */
typedef struct sqs_waiter {
    struct sqs_waiter *prev, *next; /* q->wait_head (q->mu) */
    bool linked;                    /* (q->mu) */
    bool cancelled;                 /* client gone / server stopping: answer empty */
    struct sqs_queue *q;            /* the call's reference to its queue */
    nb_call *c;
    int64_t deadline_us; /* monotonic */
    int max, visibility;
    int64_t tick_ms;     /* when to look again (set when it is linked) */
} sqs_waiter;

/* A FIFO receive made with a ReceiveRequestAttemptId: a retry with the same id within 5
 * minutes gets the same messages and receipt handles while none of them was deleted or had
 * its visibility changed (AWS's documented retry contract). */
typedef struct sqs_attempt {
    char id[129];
    int64_t expires_us; /* region time */
    int n;
    uint64_t seq[10];
    uint32_t nonce[10];
    int64_t visible_us[10]; /* as the receive left them: any change means modified */
} sqs_attempt;

typedef struct sqs_queue {
    int64_t id; /* row id */
    char account[13];
    char name[81];
    char arn[160];
    bool fifo;
    atomic_int refs;
    bool deleted;
    struct sqs_queue *hnext; /* directory chain */

    pthread_mutex_t mu;
    sqs_waiter *wait_head, *wait_tail; /* long polls, oldest first */

    /* attributes (mu) */
    json_t *attrs; /* settable attributes as set, name -> string */
    json_t *tags;  /* key -> value */
    int64_t created, modified;
    int visibility, retention, delay, wait, max_size, max_receive;
    char dlq_arn[160];
    bool content_dedup, dedup_group_scope;
    int64_t purge_at_us; /* last PurgeQueue (60 s between them) */

    /* messages (mu) */
    uint64_t next_seq;
    sqs_msg *head, *tail;
    sqs_msg **heap; /* standard: delayed and in-flight messages by visible_us */
    size_t nheap, capheap;
    sqs_msgmap byseq;
    size_t count, inflight, delayed;
    sqs_dedup *dedup[64];
    sqs_attempt attempts[16]; /* FIFO receive attempts, a ring */
    unsigned next_attempt;
} sqs_queue;

/* AWS's ceiling (and default) for MaximumMessageSize and for a batch's total size: 1 MiB
 * since August 2025 (256 KiB before). */
#define NB_SQS_MAX_MESSAGE 1048576

extern nb_db *nb_sqs_db;
extern char nb_sqs_region[64];
extern char nb_sqs_default_host[300]; /* host:port for queue URLs when a request has no Host */

/* store.c */
int nb_sqs_store_open(const char *dir, char **err);
void nb_sqs_store_close(void);
int nb_sqs_store_reset(void);
/* Find and reference a queue (release with nb_sqs_queue_put), NULL if none. */
sqs_queue *nb_sqs_queue_get(const char *account, const char *name);
sqs_queue *nb_sqs_queue_by_arn(const char *arn);
void nb_sqs_queue_put(sqs_queue *q);
/* Create: 0 and *out (referenced); 1 when it exists already (*out referenced, attrs not
 * applied); 2 when a queue of that name was deleted less than 60 s (region time) ago;
 * -1 on store failure. attrs/tags are stolen. */
int nb_sqs_queue_create(const char *account, const char *name, json_t *attrs, json_t *tags,
                        sqs_queue **out);
int nb_sqs_queue_delete(sqs_queue *q);
/* Re-derive the cached attribute fields from q->attrs (mu held) and persist attrs + tags. */
void nb_sqs_queue_apply_attrs(sqs_queue *q);
int nb_sqs_queue_save(sqs_queue *q);
/* Queues of account whose name starts with prefix, sorted by name: array of referenced
 * queues (caller puts each and frees the array). */
sqs_queue **nb_sqs_queue_list(const char *account, const char *prefix, size_t *n);
/* Every queue (referenced), for the sweeper and ListDeadLetterSourceQueues. */
sqs_queue **nb_sqs_queue_all(size_t *n);

/* Messages. nb_sqs_msg_new copies everything into one allocation. */
sqs_msg *nb_sqs_msg_new(const char *body, size_t body_len, const char *attrs, const char *sys_attrs,
                        const char *group, const char *dedup, const char *sender);
void nb_sqs_msg_free(sqs_msg *m);

/* Enqueue n prepared messages (each into its queue), durably. FIFO deduplication happens
 * here: dup[i] is set (and the message freed, ids copied from the first) for duplicates.
 * Returns 0 or -1 (store failure: nothing was enqueued). */
typedef struct sqs_send {
    sqs_queue *q;
    sqs_msg *m;
    int delay; /* seconds */
    bool dup;
    bool move; /* moved from another queue: no deduplication, keeps its sent time */
    int rc;
    char id[37], seqnum[24];
} sqs_send;
int nb_sqs_enqueue(sqs_send *s, size_t n);

/* Receive up to max visible messages (FIFO: group order and locks), making them invisible for
 * visibility seconds. Fills out (copies that the caller frees with nb_sqs_msg_free) and
 * returns the count, or -1 if the queue went away. Messages past maxReceiveCount move to the
 * dead-letter queue on the way. With a waiter w whose deadline is still ahead, finding
 * nothing links w to the queue and returns NB_SQS_WAITING (w->tick_ms set): the call is
 * resumed later by whoever unlinks it. */
#define NB_SQS_WAITING (-2)
int nb_sqs_receive(sqs_queue *q, int max, int visibility, sqs_waiter *w, sqs_msg **out);
/* FIFO ReceiveRequestAttemptId: the messages an unexpired earlier receive with this id got,
 * if none was modified since (their visibility restarts at visibility seconds): count of
 * copies in out, else 0. nb_sqs_receive_record remembers a receive's result under the id. */
int nb_sqs_receive_retry(sqs_queue *q, const char *attempt, int visibility, sqs_msg **out);
void nb_sqs_receive_record(sqs_queue *q, const char *attempt, sqs_msg *const *got, int n);
/* The waiting call's event (loop thread): resume it if it is still linked and its deadline
 * passed, a message may be visible, or cancel; else re-arm its timer. */
void nb_sqs_waiter_event(sqs_waiter *w, bool cancel);
/* Receipt handles: encode the message's current one; decode into seq + nonce (-1 if
 * malformed). */
char *nb_sqs_receipt(nb_arena *a, const sqs_queue *q, const sqs_msg *m);
int nb_sqs_receipt_parse(const char *h, int64_t *qid, uint64_t *seq, uint32_t *nonce);
/* 0 deleted (or already gone), -1 store failure. */
int nb_sqs_delete(sqs_queue *q, uint64_t seq, uint32_t nonce);
/* 0, 1 = not in flight (MessageNotInflight), 2 = no such message (invalid handle), 3 = the
 * timeout would end more than 12 hours after the receive, 4 = the handle is of an earlier
 * receive (expired), -1 store. */
int nb_sqs_change_visibility(sqs_queue *q, uint64_t seq, uint32_t nonce, int timeout);
int nb_sqs_purge(sqs_queue *q);
/* Move every message of src into dst (StartMessageMoveTask); returns how many or -1. */
long nb_sqs_move_all(sqs_queue *src, sqs_queue *dst);
/* Move up to max of src's oldest visible messages into dst (a rate-limited move task's step);
 * returns how many or -1. */
long nb_sqs_move_some(sqs_queue *src, sqs_queue *dst, long max);
/* Approximate counts (visible, in flight, delayed). */
void nb_sqs_counts(sqs_queue *q, size_t *visible, size_t *inflight, size_t *delayed);
/* Drop messages past their retention period (the sweeper, on the region clock). */
void nb_sqs_sweep(void);

/* md5.c: AWS's digests. */
void nb_sqs_md5_hex(const void *p, size_t n, char out[33]);
/* MD5OfMessageAttributes over a MessageAttributes document (name -> value object), AWS's
 * binary encoding; "" when empty. Returns -1 if a value is malformed. */
int nb_sqs_md5_attrs(json_t *attrs, char out[33]);
/* Validate a MessageAttributes document as SendMessage does; 0, or -1 with msg (AWS text). */
int nb_sqs_attrs_validate(json_t *attrs, bool system, char *msg, size_t msgn);
/* Size that counts toward MaximumMessageSize: names, types and values. */
size_t nb_sqs_attrs_size(json_t *attrs);
/* Only characters SQS accepts in a body (XML 1.0 characters, valid UTF-8). */
bool nb_sqs_body_valid(const char *s, size_t n);

#endif
