/* ocache.c: a small in-process cache of what nb_s3_object_read returned for the current
 * version of small objects (bucket row, object row, inline bytes), so a hot GET/HEAD does not
 * open an SQLite read transaction.
 *
 * Correctness rests on the database's write generation (nb_db_write_gen), not on write paths
 * remembering to invalidate: the whole table belongs to one even generation, an entry is put
 * only by a read that saw that generation unchanged from before its transaction to after it,
 * and a lookup hits only while the generation is still the same. Any write batch (PutObject,
 * deletes, lifecycle, ACLs, bucket settings ...) makes the generation odd before its changes
 * can be seen and even again after its commit, so every entry is stale from its start on.
 * Under writes the cache simply misses. Callers still verify the bytes against the stored
 * CRCs on every hit: the cache holds exactly what the database returned. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "svc/s3/content.h"
#include "svc/s3/s3.h"

/* Set-associative: a key lives in one of WAYS slots of its set. Direct-mapped, 1,000 hot keys
 * in 1,024 slots collided often enough that 40% of GETs went to SQLite. */
#define WAYS 4
#define SETS 1024
#define SLOTS (WAYS * SETS)
#define MAX_BYTES (8u << 20)       /* bound on the whole table */
#define MAX_ENTRY ((size_t)NB_S3_INLINE_MAX + 16384)

typedef struct entry {
    size_t size; /* of this allocation, counted in bytes */
    uint64_t hash;
    unsigned flags; /* NB_S3_GET_DATA: the inline bytes are here */
    nb_s3_bucket b;
    nb_s3_object o; /* its pointers point into tail */
    size_t tail_len;
    char tail[];
} entry;

static struct {
    pthread_mutex_t mu;
    const void *owner; /* the database whose generation gen is */
    uint64_t gen;
    size_t bytes;
    unsigned next_victim;
    entry *slot[SLOTS];
} T = {.mu = PTHREAD_MUTEX_INITIALIZER};

static uint64_t key_hash(const char *bucket, const char *key, size_t key_len)
{
    uint64_t h = 1469598103934665603ull;
    for (const unsigned char *p = (const unsigned char *)bucket; *p; p++) h = (h ^ *p) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull; /* bucket names never hold 0xff: no ambiguity */
    for (size_t i = 0; i < key_len; i++) h = (h ^ (unsigned char)key[i]) * 1099511628211ull;
    return h;
}

static void clear_locked(void)
{
    if (T.bytes == 0) return; /* writes clear it often: skip the walk when it is empty */
    for (size_t i = 0; i < SLOTS; i++) {
        free(T.slot[i]);
        T.slot[i] = NULL;
    }
    T.bytes = 0;
}

static bool same_key(const entry *e, uint64_t h, const char *bucket, const char *key,
                     size_t key_len)
{
    return e && e->hash == h && e->o.key_len == key_len && !memcmp(e->o.key, key, key_len) &&
           !strcmp(e->b.name, bucket);
}

/* The slot holding this key in its set, or NULL. */
static entry **find_locked(uint64_t h, const char *bucket, const char *key, size_t key_len)
{
    entry **set = &T.slot[(h % SETS) * WAYS];
    for (int w = 0; w < WAYS; w++)
        if (same_key(set[w], h, bucket, key, key_len)) return &set[w];
    return NULL;
}

/* Rebase a pointer from one copy of a tail to another. */
#define REBASE(p, from, to) ((p) ? (void *)((to) + ((const char *)(p) - (from))) : NULL)

int nb_s3_ocache_get(const void *owner, uint64_t gen, const char *bucket, const char *key,
                     size_t key_len, unsigned flags, nb_arena *a, nb_s3_bucket *b,
                     nb_s3_object *o)
{
    if (gen & 1) return -1;
    uint64_t h = key_hash(bucket, key, key_len);
    int rc = -1;
    pthread_mutex_lock(&T.mu);
    entry **es = T.owner == owner && T.gen == gen ? find_locked(h, bucket, key, key_len) : NULL;
    entry *e = es ? *es : NULL;
    if (e && (!(flags & NB_S3_GET_DATA) || !e->o.is_inline || (e->flags & NB_S3_GET_DATA))) {
        char *t = nb_arena_alloc(a, e->tail_len);
        if (t) {
            memcpy(t, e->tail, e->tail_len);
            *b = e->b;
            b->tags = REBASE(e->b.tags, e->tail, t);
            *o = e->o;
            o->key = REBASE(e->o.key, e->tail, t);
            o->storage_class = REBASE(e->o.storage_class, e->tail, t);
            o->owner = REBASE(e->o.owner, e->tail, t);
            o->attrs = REBASE(e->o.attrs, e->tail, t);
            o->checksums = REBASE(e->o.checksums, e->tail, t);
            o->tags = REBASE(e->o.tags, e->tail, t);
            o->blob = REBASE(e->o.blob, e->tail, t);
            o->crcs = REBASE(e->o.crcs, e->tail, t);
            o->enc = REBASE(e->o.enc, e->tail, t);
            o->data = REBASE(e->o.data, e->tail, t);
            rc = 0;
        }
    }
    pthread_mutex_unlock(&T.mu);
    if (rc == 0 && !(flags & NB_S3_GET_DATA)) { /* as the database read would have: no bytes */
        o->data = NULL;
        o->data_len = 0;
    }
    return rc;
}

static size_t str_size(const char *s) { return s ? strlen(s) + 1 : 0; }

/* Append n bytes (plus a NUL when nul) at *w; the new address, or NULL for NULL. */
static const void *put_bytes(char **w, const void *p, size_t n, bool nul)
{
    if (!p) return NULL;
    char *d = *w;
    if (n) memcpy(d, p, n);
    *w += n;
    if (nul) *(*w)++ = 0;
    return d;
}

static const char *put_str(char **w, const char *s)
{
    return s ? put_bytes(w, s, strlen(s), true) : NULL;
}

void nb_s3_ocache_put(const void *owner, uint64_t gen, unsigned flags, const nb_s3_bucket *b,
                      const nb_s3_object *o)
{
    if ((gen & 1) || o->nparts > 0 || o->delete_marker || !o->is_latest) return;
    bool with_data = (flags & NB_S3_GET_DATA) && o->is_inline;
    if (with_data && (!o->data || o->data_len > (size_t)NB_S3_INLINE_MAX)) return;
    size_t tail = str_size(b->tags) + o->key_len + 1 + str_size(o->storage_class) +
                  str_size(o->owner) + str_size(o->attrs) + str_size(o->checksums) +
                  str_size(o->tags) + str_size(o->blob) + o->crcs_len + o->enc_len +
                  (with_data ? o->data_len + 1 : 0);
    if (tail > MAX_ENTRY) return;
    entry *e = malloc(sizeof *e + tail);
    if (!e) return;
    e->size = sizeof *e + tail;
    e->hash = key_hash(b->name, o->key, o->key_len);
    e->flags = with_data ? NB_S3_GET_DATA : 0;
    e->tail_len = tail;
    e->b = *b;
    e->o = *o;
    char *w = e->tail;
    e->b.tags = put_str(&w, b->tags);
    e->o.key = put_bytes(&w, o->key, o->key_len, true);
    e->o.storage_class = put_str(&w, o->storage_class);
    e->o.owner = put_str(&w, o->owner);
    e->o.attrs = put_str(&w, o->attrs);
    e->o.checksums = put_str(&w, o->checksums);
    e->o.tags = put_str(&w, o->tags);
    e->o.blob = put_str(&w, o->blob);
    e->o.crcs = o->crcs_len ? put_bytes(&w, o->crcs, o->crcs_len, false) : NULL;
    e->o.enc = o->enc_len ? put_bytes(&w, o->enc, o->enc_len, false) : NULL;
    if (with_data) {
        e->o.data = put_bytes(&w, o->data, o->data_len, true);
    } else {
        e->o.data = NULL;
        e->o.data_len = 0;
    }
    e->o.parts = NULL;

    pthread_mutex_lock(&T.mu);
    if (T.owner != owner || T.gen != gen) {
        if (T.owner == owner && T.gen > gen) { /* a read older than the table's: drop it */
            pthread_mutex_unlock(&T.mu);
            free(e);
            return;
        }
        clear_locked();
        T.owner = owner;
        T.gen = gen;
    }
    entry **s = find_locked(e->hash, e->b.name, e->o.key, e->o.key_len);
    if (!s) { /* an empty way of the set, else the next victim in turn */
        entry **set = &T.slot[(e->hash % SETS) * WAYS];
        for (int i = 0; i < WAYS && !s; i++)
            if (!set[i]) s = &set[i];
        if (!s) s = &set[T.next_victim++ % WAYS];
    }
    size_t old = *s ? (*s)->size : 0;
    if (T.bytes - old + e->size > MAX_BYTES) {
        pthread_mutex_unlock(&T.mu);
        free(e);
        return;
    }
    T.bytes = T.bytes - old + e->size;
    free(*s);
    *s = e;
    pthread_mutex_unlock(&T.mu);
}

void nb_s3_ocache_clear(void)
{
    pthread_mutex_lock(&T.mu);
    clear_locked();
    T.owner = NULL;
    T.gen = 0;
    pthread_mutex_unlock(&T.mu);
}
