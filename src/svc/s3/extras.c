/* extras.c: the S3 operations whose faithful answer needs no subsystem of its own: bucket
 * subresources Nimbus has no feature behind (replication) answered as AWS answers a bucket
 * that never had them, with NotImplemented for the settings that would need the feature;
 * and GetObjectAttributes from the version's metadata. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "svc/s3/access.h"

/* ---------------------------------------------------------------- replication */

int nb_s3_op_get_bucket_replication(nb_call *c)
{
    nb_s3_bucket b;
    if (nb_s3_cfg_bucket(c, &b)) return -1;
    return nb_s3_error(c, 404, "ReplicationConfigurationNotFoundError",
                       "The replication configuration was not found", "BucketName", b.name, NULL);
}

int nb_s3_op_delete_bucket_replication(nb_call *c)
{
    nb_s3_bucket b;
    return nb_s3_cfg_bucket(c, &b); /* none to delete: 204 as on AWS */
}

/* ---------------------------------------------------------------- GetObjectAttributes */

enum { A_ETAG = 1, A_CHECKSUM = 2, A_PARTS = 4, A_CLASS = 8, A_SIZE = 16 };

/* The x-amz-object-attributes list (the protocol layer gives a list, or one string when
 * the header was not split): 0 with *mask set, or -1 with the error set. */
static int wanted(nb_call *c, unsigned *mask)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = {{"ETag", A_ETAG}, {"Checksum", A_CHECKSUM}, {"ObjectParts", A_PARTS},
                 {"StorageClass", A_CLASS}, {"ObjectSize", A_SIZE}};
    json_t *v = json_object_get(c->input, "ObjectAttributes");
    json_t *list = json_is_array(v) ? json_incref(v) : json_array();
    if (json_is_string(v)) json_array_append(list, v);
    *mask = 0;
    int rc = 0;
    size_t i;
    json_t *it;
    json_array_foreach(list, i, it)
    {
        const char *s = json_string_value(it);
        char buf[64];
        if (!s) continue;
        /* a header that was not split: "ETag, ObjectSize" */
        for (const char *p = s; *p;) {
            while (*p == ' ' || *p == ',') p++;
            size_t n = strcspn(p, ", ");
            if (!n) break;
            unsigned bit = 0;
            if (n < sizeof buf) {
                memcpy(buf, p, n);
                buf[n] = 0;
                for (size_t j = 0; j < NB_ARRAY_LEN(names); j++)
                    if (strcmp(buf, names[j].name) == 0) bit = names[j].bit;
            }
            if (!bit) {
                rc = nb_s3_error(c, 400, "InvalidArgument", "Invalid attribute name specified.",
                                 "ArgumentName", "x-amz-object-attributes", NULL);
                goto out;
            }
            *mask |= bit;
            p += n;
        }
    }
    if (!*mask)
        rc = nb_s3_error(c, 400, "InvalidArgument",
                         "The x-amz-object-attributes header specifying the attributes to be"
                         " retrieved is either missing or empty",
                         "ArgumentName", "x-amz-object-attributes", NULL);
out:
    json_decref(list);
    return rc;
}

/* The checksum members of a stored checksums document ("ChecksumSHA256": "...") into dst,
 * with their ChecksumType. A multipart object's checksum carries "-<parts>" in GET/HEAD, not
 * here. */
static void put_checksums(json_t *dst, const char *checksums)
{
    json_t *ck = checksums ? json_loads(checksums, 0, NULL) : NULL;
    const char *name;
    json_t *v;
    json_object_foreach(ck, name, v)
    {
        const char *s = json_string_value(v);
        if (!s || strncmp(name, "Checksum", 8) != 0 || !strcmp(name, "ChecksumType")) continue;
        const char *dash = strchr(s, '-');
        json_object_set_new(dst, name, dash ? json_stringn(s, (size_t)(dash - s)) : json_string(s));
        json_object_set_new(dst, "ChecksumType", json_string(nb_s3_ck_type(s)));
    }
    json_decref(ck);
}

/* The algorithm member name ("ChecksumSHA256") of an object's checksums, or NULL. */
static const char *checksum_member(nb_call *c, const char *checksums)
{
    json_t *ck = checksums ? json_loads(checksums, 0, NULL) : NULL;
    const char *name, *found = NULL;
    json_t *v;
    json_object_foreach(ck, name, v)
    {
        if (strncmp(name, "Checksum", 8) == 0 && strcmp(name, "ChecksumType") != 0) {
            found = nb_arena_strdup(c->arena, name);
            break;
        }
    }
    json_decref(ck);
    return found;
}

int nb_s3_op_get_object_attributes(nb_call *c)
{
    const char *bucket = nb_in_str(c, "Bucket");
    const char *key;
    size_t key_len;
    /* the version is read after the attribute list, whose error comes first */
    if (nb_s3_in_key_version(c, &key, &key_len, NULL)) return -1;
    unsigned mask;
    if (wanted(c, &mask)) return -1;
    const char *version;
    if (nb_s3_in_version(c, &version)) return -1;
    json_int_t max = nb_in_int(c, "MaxParts", 1000), marker = nb_in_int(c, "PartNumberMarker", 0);
    if (max < 0 || marker < 0)
        return nb_s3_error(c, 400, "InvalidArgument", "Argument max-parts must be an integer"
                           " between 0 and 2147483647", NULL);
    if (max > 1000) max = 1000;
    nb_s3_sse ckey;
    if (nb_s3_sse_customer(c, false, &ckey)) return -1;
    nb_s3_bucket b;
    nb_s3_object o;
    int rc = nb_s3_object_read(nb_s3_g, bucket ? bucket : "", key, key_len, version,
                               NB_S3_GET_PARTS, c->arena, &b, &o);
    if (rc == NB_S3_NO_BUCKET) return nb_s3_store_error(c, rc, bucket, key);
    if ((rc == NB_S3_OK || rc == NB_S3_NO_KEY || rc == NB_S3_NO_VERSION) &&
        nb_s3_bucket_access(c, &b))
        return -1;
    if (rc == NB_S3_NO_KEY && nb_s3_may_list(c, b.name)) return -1;
    if (rc) return nb_s3_store_error(c, rc, bucket, key);
    /* AWS: s3:GetObjectAttributes (the dispatcher's check) and s3:GetObject as well
     * (s3:GetObjectVersionAttributes and s3:GetObjectVersion with a version id) */
    if (nb_s3_authorize_version(c, b.name, key, key_len, version,
                                version ? "s3:GetObjectVersion" : "s3:GetObject"))
        return -1;
    if (o.delete_marker) {
        nb_s3_add_header(c, "x-amz-delete-marker", "true");
        nb_s3_add_header(c, "x-amz-version-id", o.version_id);
        if (version)
            return nb_s3_error(c, 405, "MethodNotAllowed",
                               "The specified method is not allowed against this resource.",
                               "Method", "GET", "ResourceType", "DeleteMarker", NULL);
        return nb_s3_error(c, 404, "NoSuchKey", "The specified key does not exist.", "Key", key,
                           NULL);
    }
    if (nb_s3_sse_check_read(c, o.enc, o.enc_len, &ckey)) return -1;
    json_t *out = json_object();
    json_object_set_new(out, "LastModified", json_real(o.last_modified));
    if (b.versioning != NB_S3_VERSIONING_OFF || strcmp(o.version_id, "null") != 0)
        json_object_set_new(out, "VersionId", json_string(o.version_id));
    /* unlike GET and HEAD, AWS answers the ETag here without quotes */
    if (mask & A_ETAG) json_object_set_new(out, "ETag", json_string(o.etag));
    if (mask & A_SIZE) json_object_set_new(out, "ObjectSize", json_integer(o.size));
    if (mask & A_CLASS)
        json_object_set_new(out, "StorageClass",
                            json_string(o.storage_class ? o.storage_class : "STANDARD"));
    if ((mask & A_CHECKSUM) && o.checksums) {
        json_t *ck = json_object();
        put_checksums(ck, o.checksums);
        if (json_object_size(ck))
            json_object_set_new(out, "Checksum", ck);
        else
            json_decref(ck);
    }
    if ((mask & A_PARTS) && o.nparts > 0) {
        json_t *op = json_object(), *parts = json_array();
        const char *member = checksum_member(c, o.checksums);
        int last = 0;
        bool truncated = false;
        /* AWS: the Part elements only for an object with a checksum (its parts have theirs);
         * the count, markers and truncation regardless */
        for (int i = 0; o.parts && i < o.nparts; i++) {
            const nb_s3_part *p = &o.parts[i];
            if (p->number <= marker) continue;
            if ((json_int_t)json_array_size(parts) >= max) {
                truncated = true;
                break;
            }
            json_t *pj = json_pack("{s:i,s:I}", "PartNumber", p->number, "Size",
                                   (json_int_t)p->size);
            if (member && p->checksum) json_object_set_new(pj, member, json_string(p->checksum));
            json_array_append_new(parts, pj);
            last = p->number;
        }
        json_object_set_new(op, "TotalPartsCount", json_integer(o.nparts));
        json_object_set_new(op, "PartNumberMarker", json_integer(marker));
        json_object_set_new(op, "NextPartNumberMarker", json_integer(last));
        json_object_set_new(op, "MaxParts", json_integer(max));
        json_object_set_new(op, "IsTruncated", json_boolean(truncated));
        if (json_array_size(parts) && member)
            json_object_set_new(op, "Parts", parts);
        else
            json_decref(parts);
        json_object_set_new(out, "ObjectParts", op);
    }
    c->output = out;
    return 0;
}
