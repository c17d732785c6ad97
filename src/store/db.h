/* db.h: metadata in SQLite (WAL, foreign keys on, versioned migrations), with group commit.
 *
 * Writes go through nb_db_write(): the function runs inside a transaction on the database's
 * writer thread, batched with other writers' functions (each in its own SAVEPOINT, so one
 * failing rolls back only itself), and nb_db_write() returns only after the batch committed
 * durably (synchronous=FULL). Many small writes thus share one fsync. Reads go through
 * nb_db_read() on a per-thread read connection (WAL readers do not block the writer).
 * Both block: call them from worker or scheduler threads, not from a loop thread, except
 * for reads that are known to be cheap. */
#ifndef NB_STORE_DB_H
#define NB_STORE_DB_H

#include <sqlite3.h>

#include "core/nb.h"

typedef struct nb_db nb_db;

/* Open (creating) path and apply migrations[i] for every i >= the stored user_version, each in
 * its own transaction. Returns NULL with *err (malloc'd) on failure. */
nb_db *nb_db_open(const char *path, const char *const *migrations, size_t nmigrations,
                  char **err);
void nb_db_close(nb_db *db);

/* fn returns SQLITE_OK (0) to keep its changes, anything else to roll them back; that value is
 * returned. Returns after the commit is durable. */
int nb_db_write(nb_db *db, int (*fn)(sqlite3 *h, void *arg), void *arg);
/* nb_db_write for an fn that may run more than once: when it or another job of its batch
 * fails, everything the batch did is rolled back and fn runs again from the start (so it must
 * reset whatever it fills in arg, and have no effect outside the database). Such batches skip
 * the per-job savepoint. Returns the result of the last run, after the commit is durable. */
int nb_db_write_redo(nb_db *db, int (*fn)(sqlite3 *h, void *arg), void *arg);
/* fn runs on a read connection for this thread, in a read transaction (consistent snapshot). */
int nb_db_read(nb_db *db, int (*fn)(sqlite3 *h, void *arg), void *arg);
/* Close the calling thread's read connection to db (NULL: all of its read connections) now
 * rather than at the thread's exit, and give the memory back to the system. Each connection
 * holds a parsed schema, a page cache and statements (~50 KiB for S3's): for a thread done
 * reading for a long while, such as the main thread once services have started or a daily
 * background pass. A later nb_db_read opens it again (a fraction of a millisecond). */
void nb_db_release_readers(nb_db *db); /* not from inside nb_db_read */
/* Delete every row of every table (reset), durably. */
int nb_db_wipe(nb_db *db);

/* Counters since open (health, tests): write batches committed (each one transaction and one
 * fsync) and write jobs run. jobs / batches is the group-commit factor. Either may be NULL. */
void nb_db_stats(nb_db *db, uint64_t *batches, uint64_t *jobs);

/* Write generation, for caches of what reads return: odd while a write batch is open (its
 * changes may be visible), and different after every batch. A read whose generation was even
 * before it started and unchanged after it returned saw exactly the state of that generation;
 * what it read stays current for as long as nb_db_write_gen returns the same value. */
uint64_t nb_db_write_gen(nb_db *db);

/* Prepared-statement cache per connection: same sql text -> same statement, reset and with
 * bindings cleared. Valid until the connection closes. */
sqlite3_stmt *nb_db_stmt(sqlite3 *h, const char *sql);

#endif
