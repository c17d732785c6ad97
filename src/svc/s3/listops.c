/* listops.c: ListObjects (v1), ListObjectsV2 and ListObjectVersions: request parameters and
 * response documents around the listing engine (listing.c), in one read transaction. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "svc/s3/handlers.h"
#include "svc/s3/lifecycle.h"

typedef struct lctx {
    nb_call *c;
    const char *bucket;
    int kind; /* 1 = v1, 2 = v2, 3 = versions */
    bool url;
    bool owner; /* include Owner in entries */
    const char *bucket_owner; /* Owner of entries stored without one (delete markers) */
    nb_s3_lparams p;
    const char *vmarker; /* versions: version-id-marker */
    json_t *contents, *prefixes;
    json_t *versions; /* versions and delete markers in listing order (key, then newest first) */
    nb_s3_lresult r;
    const char *last_version; /* versions: version id of the last entry emitted */
    bool failed;
    bool restore_status; /* x-amz-optional-object-attributes: RestoreStatus */
    sqlite3 *h;          /* the listing's read connection */
} lctx;

/* A key or prefix as the response carries it: raw, or URL-encoded when asked. */
static json_t *out_str(lctx *l, const char *s, size_t n)
{
    if (!l->url) return json_stringn_nocheck(s, n);
    /* AWS encodes like an HTML form (Java's URLEncoder: space as '+', which botocore undoes
     * with unquote_plus; '*' kept, '~' encoded), keeping '/' readable. */
    nb_buf b;
    nb_buf_init(&b);
    static const char hx[] = "0123456789ABCDEF";
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.' || ch == '*' || ch == '/') {
            nb_buf_putc(&b, (char)ch);
        } else if (ch == ' ') {
            nb_buf_putc(&b, '+');
        } else {
            char e[3] = {'%', hx[ch >> 4], hx[ch & 15]};
            nb_buf_append(&b, e, 3);
        }
    }
    json_t *j = json_stringn_nocheck(b.data ? b.data : "", b.len);
    nb_buf_free(&b);
    return j;
}

static int on_entry(void *ud, const char *k, size_t n, void *e)
{
    lctx *l = ud;
    nb_s3_object *o = e;
    json_t *j = json_object();
    json_object_set_new(j, "Key", out_str(l, k, n));
    if (l->kind == 3) {
        json_object_set_new(j, "VersionId", json_string(o->version_id));
        json_object_set_new(j, "IsLatest", json_boolean(o->is_latest));
    }
    /* AWS lists whole seconds (...:53.000Z), the precision of HEAD's Last-Modified. */
    json_object_set_new(j, "LastModified", json_real(floor(o->last_modified)));
    if (!o->delete_marker) {
        json_object_set_new(j, "ETag", json_string(nb_s3_quote(l->c, o->etag)));
        json_object_set_new(j, "Size", json_integer(o->size));
        json_object_set_new(j, "StorageClass",
                            json_string(o->storage_class ? o->storage_class : "STANDARD"));
        if (o->checksums) {
            json_t *ck = json_loads(o->checksums, 0, NULL);
            const char *name;
            json_t *v;
            json_t *algos = json_array();
            const char *type = NULL;
            json_object_foreach(ck, name, v)
            {
                if (strncmp(name, "Checksum", 8) == 0 && strcmp(name, "ChecksumType") != 0) {
                    json_array_append_new(algos, json_string(name + 8));
                    type = nb_s3_ck_type(json_string_value(v));
                }
            }
            if (json_array_size(algos)) {
                json_object_set_new(j, "ChecksumAlgorithm", algos);
                json_object_set_new(j, "ChecksumType", json_string(type));
            } else
                json_decref(algos);
            json_decref(ck);
        }
    }
    if (l->owner)
        json_object_set_new(j, "Owner", nb_s3_owner_json(o->owner && *o->owner ? o->owner
                                                                             : l->bucket_owner));
    if (l->restore_status && !o->delete_marker && nb_s3_class_is_archive(o->storage_class)) {
        json_t *rs = nb_s3_restore_status(l->h, o->id); /* restore.c */
        if (rs) json_object_set_new(j, "RestoreStatus", rs);
    }
    if (l->kind == 3) {
        /* AWS interleaves <Version> and <DeleteMarker>; the model has two lists, so markers
         * go in Versions naming their own element (the serializer's NB_XML_ELEMENT_KEY) */
        if (o->delete_marker) json_object_set_new(j, NB_XML_ELEMENT_KEY, json_string("DeleteMarker"));
        json_array_append_new(l->versions, j);
        l->last_version = nb_arena_strdup(l->c->arena, o->version_id);
    } else {
        json_array_append_new(l->contents, j);
    }
    return 0;
}

static int on_prefix(void *ud, const char *p, size_t n)
{
    lctx *l = ud;
    json_array_append_new(l->prefixes, json_pack("{s:o}", "Prefix", out_str(l, p, n)));
    return 0;
}

static int list_fn(sqlite3 *h, void *arg)
{
    lctx *l = arg;
    l->h = h;
    nb_s3_dbsrc *d = nb_s3_dbsrc_new(h, l->bucket, l->kind == 3, l->c->arena);
    if (!d) return SQLITE_NOMEM;
    nb_s3_lsrc src;
    nb_s3_dbsrc_src(d, &src);
    if (l->kind == 3 && l->p.marker && l->vmarker && *l->vmarker) {
        if (nb_s3_dbsrc_seek_version(d, l->p.marker, l->p.marker_len, l->vmarker) < 0)
            return SQLITE_ERROR;
        l->p.positioned = true;
    }
    nb_s3_lsink sink = {l, on_entry, on_prefix};
    int rc = nb_s3_list_run(&l->p, &src, &sink, l->c->arena, &l->r);
    nb_s3_dbsrc_done(d);
    return rc < 0 ? SQLITE_ERROR : SQLITE_OK;
}

/* Common parameters; returns -1 with the error set. */
static int setup(nb_call *c, lctx *l, int kind)
{
    memset(l, 0, sizeof *l);
    l->c = c;
    l->kind = kind;
    l->bucket = nb_in_str(c, "Bucket");
    nb_s3_bucket b;
    if (nb_s3_need_bucket(c, l->bucket, &b)) return -1;
    l->bucket_owner = nb_arena_strdup(c->arena, b.account);
    const char *enc = nb_in_str(c, "EncodingType");
    if (enc && strcmp(enc, "url") != 0)
        return nb_s3_error(c, 400, "InvalidArgument", "Invalid Encoding Method specified in Request",
                           "ArgumentName", "encoding-type", "ArgumentValue", enc, NULL);
    l->url = enc != NULL;
    /* OptionalObjectAttributes (2023; not in botocore 1.29's model, so read as the header):
     * a comma-separated list whose only member AWS defines is RestoreStatus */
    const char *opt = nb_call_header(c, "x-amz-optional-object-attributes");
    for (const char *p = opt; p && *p;) {
        while (*p == ' ' || *p == ',') p++;
        size_t n = strcspn(p, ", ");
        if (n == 13 && strncmp(p, "RestoreStatus", 13) == 0) l->restore_status = true;
        else if (n)
            return nb_s3_error(c, 400, "InvalidArgument", "Invalid attribute name specified.",
                               "ArgumentName", "x-amz-optional-object-attributes",
                               "ArgumentValue", nb_arena_strndup(c->arena, p, n), NULL);
        p += n;
    }
    json_int_t max = nb_in_int(c, "MaxKeys", 1000);
    if (max < 0)
        return nb_s3_error(c, 400, "InvalidArgument",
                           "Argument maxKeys must be an integer between 0 and 2147483647",
                           "ArgumentName", "maxKeys", NULL);
    l->p.max = max > 1000 ? 1000 : (size_t)max;
    json_t *pj = json_object_get(c->input, "Prefix");
    if (json_is_string(pj)) {
        l->p.prefix = json_string_value(pj);
        l->p.prefix_len = json_string_length(pj);
    }
    json_t *dj = json_object_get(c->input, "Delimiter");
    if (json_is_string(dj)) {
        l->p.delim = json_string_value(dj);
        l->p.delim_len = json_string_length(dj);
    }
    l->contents = json_array();
    l->prefixes = json_array();
    l->versions = json_array();
    return 0;
}

static void free_ctx(lctx *l)
{
    json_decref(l->contents);
    json_decref(l->prefixes);
    json_decref(l->versions);
}

static int run(nb_call *c, lctx *l)
{
    int rc = nb_db_read(nb_s3_store_db(nb_s3_g), list_fn, l);
    if (rc != SQLITE_OK) return nb_s3_internal(c, "listing failed");
    /* max-keys=0 asks for no entries: AWS answers IsTruncated false (and no next marker),
     * whatever the bucket holds. */
    if (l->p.max == 0) l->r.truncated = false;
    return 0;
}

/* Members every listing shares. */
static void common_out(lctx *l, json_t *out)
{
    json_object_set_new(out, "Name", json_string(l->bucket));
    json_object_set_new(out, "Prefix", out_str(l, l->p.prefix ? l->p.prefix : "", l->p.prefix_len));
    /* an empty delimiter is none: AWS leaves the element out (s3-tests *_delimiter_empty) */
    if (l->p.delim && l->p.delim_len)
        json_object_set_new(out, "Delimiter", out_str(l, l->p.delim, l->p.delim_len));
    json_object_set_new(out, "MaxKeys", json_integer((json_int_t)l->p.max));
    json_object_set_new(out, "IsTruncated", json_boolean(l->r.truncated));
    if (l->url) json_object_set_new(out, "EncodingType", json_string("url"));
    if (json_array_size(l->prefixes)) json_object_set(out, "CommonPrefixes", l->prefixes);
}

int nb_s3_op_list_objects(nb_call *c)
{
    lctx l;
    if (setup(c, &l, 1)) {
        free_ctx(&l);
        return -1;
    }
    json_t *mj = json_object_get(c->input, "Marker");
    if (json_is_string(mj)) {
        l.p.marker = json_string_value(mj);
        l.p.marker_len = json_string_length(mj);
    }
    l.owner = true;
    if (run(c, &l)) {
        free_ctx(&l);
        return -1;
    }
    json_t *out = json_object();
    common_out(&l, out);
    json_object_set_new(out, "Marker", out_str(&l, l.p.marker ? l.p.marker : "", l.p.marker_len));
    /* AWS sends NextMarker only with a delimiter; without one clients use the last key. */
    if (l.r.truncated && l.p.delim_len && l.r.last)
        json_object_set_new(out, "NextMarker", out_str(&l, l.r.last, l.r.last_len));
    if (json_array_size(l.contents)) json_object_set(out, "Contents", l.contents);
    free_ctx(&l);
    c->output = out;
    return 0;
}

#define TOKEN_V1 0x01

int nb_s3_op_list_objects_v2(nb_call *c)
{
    lctx l;
    if (setup(c, &l, 2)) {
        free_ctx(&l);
        return -1;
    }
    const char *token = nb_in_str(c, "ContinuationToken");
    json_t *sa = json_object_get(c->input, "StartAfter");
    /* An empty continuation-token is no token (the listing starts over); it is echoed. */
    if (token && *token) {
        /* Our tokens: base64 of a version byte and the last key or common prefix returned;
         * the byte lets a made-up token be refused as AWS refuses it. */
        size_t tn = strlen(token);
        unsigned char *raw = nb_arena_alloc(c->arena, tn + 4);
        ssize_t rn = raw ? nb_base64_decode(token, tn, raw) : -1;
        if (rn < 2 || raw[0] != TOKEN_V1) {
            free_ctx(&l);
            return nb_s3_error(c, 400, "InvalidArgument",
                               "The continuation token provided is incorrect", "ArgumentName",
                               "continuation-token", NULL);
        }
        l.p.marker = (const char *)raw + 1;
        l.p.marker_len = (size_t)rn - 1;
    } else if (json_is_string(sa)) {
        l.p.marker = json_string_value(sa);
        l.p.marker_len = json_string_length(sa);
    }
    l.owner = nb_in_bool(c, "FetchOwner", false);
    if (run(c, &l)) {
        free_ctx(&l);
        return -1;
    }
    json_t *out = json_object();
    common_out(&l, out);
    json_object_set_new(out, "KeyCount", json_integer((json_int_t)l.r.count));
    if (token) json_object_set_new(out, "ContinuationToken", json_string(token));
    if (json_is_string(sa))
        json_object_set_new(out, "StartAfter",
                            out_str(&l, json_string_value(sa), json_string_length(sa)));
    if (l.r.truncated && l.r.last) {
        char *t = nb_arena_alloc(c->arena, nb_base64_encoded_len(l.r.last_len + 1) + 1);
        unsigned char *raw = nb_arena_alloc(c->arena, l.r.last_len + 1);
        if (t && raw) {
            raw[0] = TOKEN_V1;
            memcpy(raw + 1, l.r.last, l.r.last_len);
            nb_base64_encode(raw, l.r.last_len + 1, t);
            json_object_set_new(out, "NextContinuationToken", json_string(t));
        }
    }
    if (json_array_size(l.contents)) json_object_set(out, "Contents", l.contents);
    free_ctx(&l);
    c->output = out;
    return 0;
}

int nb_s3_op_list_object_versions(nb_call *c)
{
    lctx l;
    if (setup(c, &l, 3)) {
        free_ctx(&l);
        return -1;
    }
    json_t *km = json_object_get(c->input, "KeyMarker");
    if (json_is_string(km)) {
        l.p.marker = json_string_value(km);
        l.p.marker_len = json_string_length(km);
    }
    l.vmarker = nb_in_str(c, "VersionIdMarker");
    if (l.vmarker && *l.vmarker && !nb_s3_version_id_valid(l.vmarker)) {
        free_ctx(&l);
        return nb_s3_error(c, 400, "InvalidArgument", "Invalid version id specified",
                           "ArgumentName", "version-id-marker", "ArgumentValue", l.vmarker, NULL);
    }
    if (l.vmarker && *l.vmarker && !l.p.marker) {
        free_ctx(&l);
        return nb_s3_error(c, 400, "InvalidArgument",
                           "A version-id marker cannot be specified without a key marker.",
                           "ArgumentName", "version-id-marker", "ArgumentValue", l.vmarker, NULL);
    }
    l.owner = true;
    if (run(c, &l)) {
        free_ctx(&l);
        return -1;
    }
    json_t *out = json_object();
    common_out(&l, out);
    json_object_set_new(out, "KeyMarker", out_str(&l, l.p.marker ? l.p.marker : "", l.p.marker_len));
    json_object_set_new(out, "VersionIdMarker", json_string(l.vmarker ? l.vmarker : ""));
    if (l.r.truncated && l.r.last) {
        json_object_set_new(out, "NextKeyMarker", out_str(&l, l.r.last, l.r.last_len));
        if (!l.r.last_is_prefix && l.last_version)
            json_object_set_new(out, "NextVersionIdMarker", json_string(l.last_version));
    }
    if (json_array_size(l.versions)) json_object_set(out, "Versions", l.versions);
    c->output = out;
    free_ctx(&l);
    return 0;
}
