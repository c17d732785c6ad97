/* blob.h: content files (object data, parts, snapshots' payloads) named by random ids, never by
 * user keys, with an atomic, durable create -> commit protocol and orphan collection.
 *
 * Layout: <dir>/<first 2 hex of id>/<id>; while being written: <dir>/<2 hex>/<id>.tmp.
 *
 * Use, e.g. for an S3 PUT:
 *     char id[NB_BLOB_ID_LEN + 1]; int fd;
 *     nb_blob_create(bs, id, &fd);        // new temp file, opened read-write
 *     write(fd, ...) ...                   // stream the body, checksum as you go
 *     nb_blob_commit(bs, fd, id);          // durable under its final name; closes fd
 *     nb_db_write(... row pointing to id ...);   // only now does the object exist
 *     nb_blob_unlink(bs, old_id);          // after the metadata commit, drop the old version
 * If anything fails before commit, nb_blob_abort(bs, fd, id). If the metadata commit fails after
 * nb_blob_commit, nb_blob_unlink(bs, id) (or leave it: the next scan collects it).
 *
 * Thread-safe: the store holds no mutable state besides its directory fd. */
#ifndef NB_STORE_BLOB_H
#define NB_STORE_BLOB_H

#include "core/nb.h"

#define NB_BLOB_ID_LEN 32 /* lowercase hex characters: 128 random bits */

typedef struct nb_blob_store nb_blob_store;

/* Open (creating, mode 0700) the directory dir. Returns NULL with *err (malloc'd) on failure. */
nb_blob_store *nb_blob_store_open(const char *dir, char **err);
void nb_blob_store_close(nb_blob_store *s); /* NULL-safe */

/* A new blob: picks a fresh random id (id_out, NUL-terminated) and opens its temp file for
 * writing (O_RDWR, so the writer may read back to verify). The caller owns *fd_out until it
 * passes it to exactly one of nb_blob_commit or nb_blob_abort. Returns 0 or -1 (errno set). */
int nb_blob_create(nb_blob_store *s, char id_out[NB_BLOB_ID_LEN + 1], int *fd_out);
/* Make the blob durable under its final name: fsync the file, rename it into place, fsync the
 * directory. Always closes fd; on failure the temp file is removed. Returns 0 or -1 (errno). */
int nb_blob_commit(nb_blob_store *s, int fd, const char *id);
/* Discard a created, uncommitted blob: closes fd, removes the temp file. */
void nb_blob_abort(nb_blob_store *s, int fd, const char *id);

/* Open a committed blob read-only (O_RDONLY|O_CLOEXEC, good for sendfile/pread). Returns an fd
 * the caller closes, or -1 (errno: ENOENT if absent, EINVAL if id is not a blob id). */
int nb_blob_open(nb_blob_store *s, const char *id);
/* Remove a committed blob. Not fsynced on purpose: if the removal is lost in a crash, the file
 * has no metadata pointing to it and the next scan removes it. Returns 0, or -1 (errno; ENOENT
 * if it was already gone). */
int nb_blob_unlink(nb_blob_store *s, const char *id);
/* Path of a blob ("<dir>/<xx>/<id>") into out (size n), for code that needs a name (loop
 * devices, engines). Returns 0, or -1 if id is invalid or n too small. */
int nb_blob_path(nb_blob_store *s, const char *id, char *out, size_t n);
/* Size in bytes of a committed blob, or -1 (errno). */
int64_t nb_blob_size(nb_blob_store *s, const char *id);
/* True if id has the form of a blob id (NB_BLOB_ID_LEN lowercase hex). Ids from a database are
 * checked by every function above anyway, so a corrupt row can never name another file. */
bool nb_blob_id_valid(const char *id);

/* Orphan collection, meant for start-up: removes every blob for which is_referenced(id, arg)
 * returns 0, and every leftover temp file. Files modified after nb_blob_store_open are never
 * touched (they belong to writes of this process, which may not have committed their metadata
 * yet), so running the scan while serving is safe. is_referenced returns 1 (keep), 0 (remove)
 * or -1 (error: the scan stops, removing nothing more). Returns the number of files removed, or
 * -1 on error. Unknown file names are left alone. */
long nb_blob_scan(nb_blob_store *s, int (*is_referenced)(const char *id, void *arg), void *arg);
/* Reset (drop all state): remove every blob and temp file, whatever its age. Writes in flight
 * then fail at commit (ENOENT). Returns the number of files removed, or -1. */
long nb_blob_wipe(nb_blob_store *s);

#endif
