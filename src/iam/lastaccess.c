/* lastaccess.c: the in-memory record of the last attempt of each action by each IAM user and
 * role, for IAM's service last-accessed reports.
 *
 * Why in memory: recording happens on every authorized request, and a database write per
 * request would cost far more than the request itself; one mutex, one hash and a short scan of
 * the entity's actions cost well under a microsecond. The record is lost at restart (as the
 * access key last-use record of identity.c is): reports then show services as never used, as
 * AWS shows services without recorded use. Bounded: at most MAX_ENTITIES entities of at most
 * MAX_ACTIONS actions each; beyond, new ones are not recorded. */
#include "iam/lastaccess.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"

#define BUCKETS 1024
#define MAX_ENTITIES 50000
#define MAX_ACTIONS 512

struct use {
    char action[128];
    char region[32];
    double when;
};

struct entity {
    char id[32];
    struct use *uses;
    size_t n, cap;
    struct entity *next;
};

static struct entity *table[BUCKETS];
static size_t nentities;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static size_t slot(const char *s)
{
    size_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h % BUCKETS;
}

static struct entity *find(const char *id, bool create)
{
    size_t b = slot(id);
    for (struct entity *e = table[b]; e; e = e->next)
        if (!strcmp(e->id, id)) return e;
    if (!create || nentities >= MAX_ENTITIES) return NULL;
    struct entity *e = calloc(1, sizeof(*e));
    if (!e) return NULL;
    snprintf(e->id, sizeof(e->id), "%s", id);
    e->next = table[b];
    table[b] = e;
    nentities++;
    return e;
}

void nb_last_access_record(const char *entity_id, const char *action, const char *region)
{
    if (!entity_id || !*entity_id || strlen(entity_id) >= 32 || !action || strlen(action) >= 128)
        return;
    double now = nb_clock_now_f();
    pthread_mutex_lock(&mu);
    struct entity *e = find(entity_id, true);
    if (e) {
        struct use *u = NULL;
        for (size_t i = 0; i < e->n; i++)
            if (!strcmp(e->uses[i].action, action)) {
                u = &e->uses[i];
                break;
            }
        if (!u && e->n < MAX_ACTIONS) {
            if (e->n == e->cap) {
                size_t cap = e->cap ? e->cap * 2 : 8;
                struct use *nu = realloc(e->uses, cap * sizeof(*nu));
                if (nu) {
                    e->uses = nu;
                    e->cap = cap;
                }
            }
            if (e->n < e->cap) {
                u = &e->uses[e->n++];
                snprintf(u->action, sizeof(u->action), "%s", action);
            }
        }
        if (u) {
            u->when = now;
            snprintf(u->region, sizeof(u->region), "%s", region && *region ? region : "us-east-1");
        }
    }
    pthread_mutex_unlock(&mu);
}

void nb_last_access_each(const char *entity_id, nb_last_access_fn fn, void *arg)
{
    if (!entity_id) return;
    pthread_mutex_lock(&mu);
    struct entity *e = find(entity_id, false);
    /* Copied out so that fn runs without the lock (it may be slow: JSON, SQLite). */
    size_t n = e ? e->n : 0;
    struct use *copy = n ? malloc(n * sizeof(*copy)) : NULL;
    if (copy) memcpy(copy, e->uses, n * sizeof(*copy));
    pthread_mutex_unlock(&mu);
    for (size_t i = 0; copy && i < n; i++)
        fn(arg, copy[i].action, copy[i].when, copy[i].region);
    free(copy);
}

void nb_last_access_clear(void)
{
    pthread_mutex_lock(&mu);
    for (size_t b = 0; b < BUCKETS; b++) {
        struct entity *e = table[b];
        while (e) {
            struct entity *next = e->next;
            free(e->uses);
            free(e);
            e = next;
        }
        table[b] = NULL;
    }
    nentities = 0;
    pthread_mutex_unlock(&mu);
}
