/* postobject.c: S3 browser uploads (POST /<bucket> with multipart/form-data): the form is
 * stream-parsed, the policy document checked (expiration, every condition kind, every field
 * covered, SigV4 or SigV2 signature), and the file part streamed into a content file as it
 * arrives (never buffered whole), then committed like a PutObject. AWS documents the form in
 * RESTObjectPOST.html and sigv4-HTTPPOSTForms.html / sigv4-HTTPPOSTConstructPolicy.html. */
#include <ctype.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include "proto/xmllib.h" /* libxml2 is loaded lazily: see there */
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "core/clock.h"
#include "core/hash.h"
#include "iam/authz.h"
#include "iam/creds.h"
#include "proto/proto.h"
#include "proto/sigv4.h"
#include "svc/s3/access.h"
#include "svc/s3/events.h"
#include "svc/s3/formdata.h"
#include "svc/s3/handlers.h"
#include "svc/s3/lifecycle.h"

#define FIELDS_MAX (1u << 20)         /* all fields before the file, together */
#define MAX_FIELDS 200
#define POST_MAX_OBJECT ((int64_t)5 << 30)

/* ---------------------------------------------------------------- errors */

static int malformed(nb_call *c)
{
    return nb_s3_error(c, 400, "MalformedPOSTRequest",
                       "The body of your POST request is not well-formed multipart/form-data.",
                       NULL);
}

static int policy_denied(nb_call *c, const char *why)
{
    char *msg = nb_arena_printf(c->arena, "Invalid according to Policy: %s", why);
    return nb_s3_error(c, 403, "AccessDenied", msg ? msg : "Invalid according to Policy", NULL);
}

static int invalid_policy(nb_call *c, const char *why)
{
    char *msg = nb_arena_printf(c->arena, "Invalid Policy: %s", why);
    return nb_s3_error(c, 400, "InvalidPolicyDocument", msg ? msg : "Invalid Policy", NULL);
}

static int missing_field(nb_call *c, const char *name)
{
    char *msg = nb_arena_printf(c->arena,
                                "Bucket POST must contain a field named '%s'.  If it is specified,"
                                " please check the order of the fields.",
                                name);
    return nb_s3_error(c, 400, "InvalidArgument", msg ? msg : "Bucket POST is missing a field",
                       "ArgumentName", name, "ArgumentValue", "", NULL);
}

/* A failure of the form reader as S3 words it; read and sink failures filled c->err. */
static int form_error(nb_call *c, int rc)
{
    if (rc == NB_FORM_ENOMEM) return nb_s3_nomem(c);
    if ((rc == NB_FORM_EREAD || rc == NB_FORM_ESINK) && c->err.code[0]) return -1;
    if (rc == NB_FORM_EREAD || rc == NB_FORM_ESINK)
        return nb_s3_internal(c, "form body could not be read");
    return malformed(c);
}

static ssize_t call_read(void *ud, void *buf, size_t n) { return nb_call_read(ud, buf, n); }

/* ---------------------------------------------------------------- the form */

typedef struct field {
    char *name;  /* lowercased */
    char *value; /* NUL-terminated */
    size_t len;
    bool covered;
} field;

typedef struct form {
    field f[MAX_FIELDS];
    size_t n;
    size_t total;
    bool too_large;
    nb_buf cur;
} form;

static field *form_get(form *fm, const char *name)
{
    for (size_t i = 0; i < fm->n; i++)
        if (strcasecmp(fm->f[i].name, name) == 0) return &fm->f[i];
    return NULL;
}

static const char *form_str(form *fm, const char *name)
{
    field *f = form_get(fm, name);
    return f ? f->value : NULL;
}

static int field_sink(void *ud, const char *p, size_t n)
{
    form *fm = ud;
    fm->total += n;
    if (fm->total > FIELDS_MAX) {
        fm->too_large = true;
        return -1;
    }
    return nb_buf_append(&fm->cur, p, n);
}

/* ---------------------------------------------------------------- policy */

static bool exempt(const char *name)
{
    return !strcasecmp(name, "x-amz-signature") || !strcasecmp(name, "signature") ||
           !strcasecmp(name, "awsaccesskeyid") || !strcasecmp(name, "file") ||
           !strcasecmp(name, "policy") || strncasecmp(name, "x-ignore-", 9) == 0 ||
           /* an integrity check of the file grants nothing: Ceph's s3-tests
            * (test_post_object_upload_checksum) send it outside the policy */
           strncasecmp(name, "x-amz-checksum-", 15) == 0;
}

/* ISO 8601 "2030-01-01T00:00:00Z" / "...00.000Z" to epoch seconds; -1 if unreadable. */
static double parse_iso(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    if (!e) return -1;
    double frac = 0;
    if (*e == '.') {
        char *x;
        frac = strtod(e, &x);
        e = x;
    }
    if (strcmp(e, "Z") != 0 && strcmp(e, "+00:00") != 0 && *e) return -1;
    return (double)timegm(&tm) + frac;
}

typedef struct post_ctx {
    nb_call *c;
    form *fm;
    const char *bucket;
    json_t *policy;
    const char *key;          /* the key field with ${filename} expanded */
    int64_t len_min, len_max; /* content-length-range, -1 = none */
    bool bucket_covered;      /* a condition names the bucket */
} post_ctx;

/* The form's value for a condition field ("$key", "bucket" ...); bucket is the URL's. */
static const char *cond_value(post_ctx *x, const char *name, field **f)
{
    if (*name == '$') name++;
    *f = form_get(x->fm, name);
    if (!strcasecmp(name, "bucket")) {
        x->bucket_covered = true;
        return x->bucket;
    }
    return *f ? (*f)->value : NULL;
}

static char *cond_text(post_ctx *x, const char *op, const char *name, const char *value)
{
    if (*name == '$') name++;
    nb_buf b;
    nb_buf_init(&b);
    json_t *v = json_string(value);
    char *vs = v ? json_dumps(v, JSON_ENCODE_ANY) : NULL;
    json_decref(v);
    nb_buf_printf(&b, "[\"%s\", \"$%s\", %s]", op, name, vs ? vs : "\"\"");
    free(vs);
    char *out = nb_arena_strndup(x->c->arena, b.data ? b.data : "", b.len);
    nb_buf_free(&b);
    return out;
}

static int cond_failed(post_ctx *x, const char *text)
{
    char *why = nb_arena_printf(x->c->arena, "Policy Condition failed: %s", text ? text : "");
    return policy_denied(x->c, why);
}

static bool value_matches(const char *op, const char *name, const char *got, const char *want);

/* One eq / starts-with condition. The key is matched as stored (${filename} expanded), and
 * as sent when that fails, so a policy may be written either way. */
static int check_match(post_ctx *x, const char *op, const char *name, const char *want)
{
    field *f;
    const char *got = cond_value(x, name, &f);
    if (f) f->covered = true;
    bool ok;
    if (!strcasecmp(name[0] == '$' ? name + 1 : name, "key") && x->key && got)
        ok = value_matches(op, name, x->key, want) || value_matches(op, name, got, want);
    else
        ok = value_matches(op, name, got, want);
    return ok ? 0 : cond_failed(x, cond_text(x, op, name, want));
}

static bool value_matches(const char *op, const char *name, const char *got, const char *want)
{
    bool ok;
    if (!strcasecmp(op, "eq")) {
        ok = got && strcmp(got, want) == 0;
    } else {
        /* starts-with "" admits any value; AWS lets Content-Type list comma-separated values,
         * each of which must match */
        size_t wl = strlen(want);
        if (!got)
            ok = wl == 0;
        else if (!strcasecmp(name[0] == '$' ? name + 1 : name, "content-type") && wl) {
            ok = true;
            const char *p = got;
            for (;;) {
                while (*p == ' ') p++;
                if (strncmp(p, want, wl) != 0) ok = false;
                const char *comma = strchr(p, ',');
                if (!comma) break;
                p = comma + 1;
            }
        } else {
            ok = strncmp(got, want, wl) == 0;
        }
    }
    return ok;
}

static bool json_int_of(json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *e;
        if (!*s) return false;
        long long k = strtoll(s, &e, 10);
        if (*e) return false;
        *out = k;
        return true;
    }
    return false;
}

/* Expiration, every condition, and that every field is covered. Content-length-range is
 * only recorded (the size is known after the file). */
static int check_policy(post_ctx *x)
{
    nb_call *c = x->c;
    json_t *p = x->policy;
    const char *exp = json_string_value(json_object_get(p, "expiration"));
    if (!json_object_get(p, "expiration")) return invalid_policy(c, "Policy missing expiration.");
    double t = exp ? parse_iso(exp) : -1;
    if (t < 0) {
        char *why = nb_arena_printf(c->arena, "Invalid 'expiration' value: '%s'", exp ? exp : "");
        return invalid_policy(c, why);
    }
    if ((double)nb_wall_us() / 1e6 >= t) return policy_denied(c, "Policy expired.");
    json_t *conds = json_object_get(p, "conditions");
    if (!conds) return invalid_policy(c, "Policy missing conditions.");
    if (!json_is_array(conds)) return invalid_policy(c, "Invalid 'conditions' value: must be a list.");
    size_t i;
    json_t *cd;
    json_array_foreach(conds, i, cd)
    {
        if (json_is_object(cd)) {
            const char *k;
            json_t *v;
            if (json_object_size(cd) != 1)
                return invalid_policy(c, "Invalid Simple-Condition: Simple-Conditions must have"
                                         " exactly one property specified.");
            json_object_foreach(cd, k, v)
            {
                if (!json_is_string(v))
                    return invalid_policy(c, "Invalid Simple-Condition: value must be a string.");
                if (check_match(x, "eq", k, json_string_value(v))) return -1;
            }
            continue;
        }
        if (!json_is_array(cd) || json_array_size(cd) < 1 ||
            !json_is_string(json_array_get(cd, 0)))
            return invalid_policy(c, "Invalid condition: conditions must be objects or lists.");
        const char *op = json_string_value(json_array_get(cd, 0));
        if (!strcasecmp(op, "content-length-range")) {
            int64_t lo, hi;
            if (json_array_size(cd) != 3 || !json_int_of(json_array_get(cd, 1), &lo) ||
                !json_int_of(json_array_get(cd, 2), &hi) || lo < 0 || hi < lo)
                return invalid_policy(c, "Invalid content-length-range: arguments must be"
                                         " non-negative integers, the minimum not above the"
                                         " maximum.");
            /* several ranges: all must hold */
            if (x->len_min < lo) x->len_min = lo;
            if (x->len_max < 0 || x->len_max > hi) x->len_max = hi;
            continue;
        }
        if (strcasecmp(op, "eq") != 0 && strcasecmp(op, "starts-with") != 0) {
            char *why = nb_arena_printf(c->arena, "Invalid condition: unknown operation '%s'.",
                                        op);
            return invalid_policy(c, why);
        }
        if (json_array_size(cd) != 3 || !json_is_string(json_array_get(cd, 1)) ||
            !json_is_string(json_array_get(cd, 2)))
            return invalid_policy(c, "Invalid condition: expected [operation, \"$field\","
                                     " value].");
        const char *name = json_string_value(json_array_get(cd, 1));
        if (name[0] != '$') {
            char *why = nb_arena_printf(c->arena, "Invalid condition: field name '%s' must"
                                                  " start with '$'.", name);
            return invalid_policy(c, why);
        }
        if (check_match(x, op, name, json_string_value(json_array_get(cd, 2)))) return -1;
    }
    nb_buf extra;
    nb_buf_init(&extra);
    for (size_t k = 0; k < x->fm->n; k++) {
        field *f = &x->fm->f[k];
        if (f->covered || exempt(f->name)) continue;
        if (!strcasecmp(f->name, "bucket")) continue; /* the URL's bucket, below */
        if (extra.len) nb_buf_puts(&extra, ", ");
        nb_buf_puts(&extra, f->name);
    }
    /* the bucket is a field of every form, sent or not (it is the URL's): AWS refuses a
     * policy that does not name it as "Extra input fields: bucket" */
    if (!x->bucket_covered) {
        if (extra.len) nb_buf_puts(&extra, ", ");
        nb_buf_puts(&extra, "bucket");
    }
    if (extra.len) {
        char *why = nb_arena_printf(c->arena, "Extra input fields: %.*s", (int)extra.len,
                                    extra.data);
        nb_buf_free(&extra);
        return policy_denied(c, why);
    }
    nb_buf_free(&extra);
    return 0;
}

static int signature_mismatch(nb_call *c, const char *akid, const char *policy, const char *sig)
{
    nb_buf hex;
    nb_buf_init(&hex);
    for (const unsigned char *p = (const unsigned char *)policy; *p; p++)
        nb_buf_printf(&hex, "%s%02x", p == (const unsigned char *)policy ? "" : " ", *p);
    int rc = nb_s3_error(c, 403, "SignatureDoesNotMatch",
                         "The request signature we calculated does not match the signature you"
                         " provided. Check your key and signing method.",
                         "AWSAccessKeyId", akid, "StringToSign", policy, "SignatureProvided", sig,
                         "StringToSignBytes", hex.data ? hex.data : "", NULL);
    nb_buf_free(&hex);
    return rc;
}

/* Authenticate the form: find the key, verify the signature over the base64 policy, and make
 * the call that key's principal. */
static int authenticate(nb_call *c, form *fm, const char *policy)
{
    const char *algo = form_str(fm, "x-amz-algorithm");
    const char *akid = form_str(fm, "awsaccesskeyid");
    nb_cred cred;
    const char *sig;
    char parts[5][130];
    if (algo || form_str(fm, "x-amz-credential") || form_str(fm, "x-amz-signature")) {
        if (!algo) return missing_field(c, "x-amz-algorithm");
        if (strcmp(algo, NB_SIGV4_ALGO) != 0)
            return nb_s3_error(c, 400, "InvalidArgument",
                               "Only AWS4-HMAC-SHA256 is supported for the X-Amz-Algorithm field.",
                               "ArgumentName", "x-amz-algorithm", "ArgumentValue", algo, NULL);
        const char *cr = form_str(fm, "x-amz-credential");
        if (!cr) return missing_field(c, "x-amz-credential");
        if (!form_str(fm, "x-amz-date")) return missing_field(c, "x-amz-date");
        sig = form_str(fm, "x-amz-signature");
        if (!sig) return missing_field(c, "x-amz-signature");
        /* AKID/yyyymmdd/region/service/aws4_request; the key id itself has no '/' */
        size_t np = 0;
        const char *p = cr;
        while (np < 5) {
            const char *slash = strchr(p, '/');
            size_t n = slash ? (size_t)(slash - p) : strlen(p);
            if (n >= sizeof parts[0]) break;
            memcpy(parts[np], p, n);
            parts[np++][n] = 0;
            if (!slash) break;
            p = slash + 1;
        }
        if (np != 5 || strlen(parts[1]) != 8 || strcmp(parts[4], "aws4_request") != 0 ||
            strchr(p, '/'))
            return nb_s3_error(c, 400, "InvalidArgument",
                               "Invalid credential in the form; expected"
                               " \"<key>/YYYYMMDD/REGION/SERVICE/aws4_request\".",
                               "ArgumentName", "x-amz-credential", "ArgumentValue", cr, NULL);
        /* the scope must be this endpoint's, worded as for presigned URLs */
        char *why = NULL;
        if (strcmp(parts[2], nb_s3_region) != 0)
            why = nb_arena_printf(c->arena, "Error parsing the X-Amz-Credential parameter; the"
                                  " region '%s' is wrong; expecting '%s'", parts[2], nb_s3_region);
        else if (strcmp(parts[3], "s3") != 0)
            why = nb_arena_printf(c->arena, "Error parsing the X-Amz-Credential parameter;"
                                  " incorrect service \"%s\". This endpoint belongs to \"s3\".",
                                  parts[3]);
        if (why)
            return nb_s3_error(c, 400, "AuthorizationQueryParametersError", why, "Region",
                               strcmp(parts[2], nb_s3_region) ? nb_s3_region : NULL, NULL);
        if (nb_creds_lookup(parts[0], &cred) < 0 || !cred.active)
            return nb_s3_error(c, 403, "InvalidAccessKeyId",
                               "The AWS Access Key Id you provided does not exist in our records.",
                               "AWSAccessKeyId", parts[0], NULL);
        unsigned char key[32], mac[32];
        nb_sigv4_signing_key(cred.secret, parts[1], parts[2], parts[3], key);
        nb_hmac_sha256(key, 32, policy, strlen(policy), mac);
        char want[65];
        nb_hex(mac, 32, want);
        char got[65];
        snprintf(got, sizeof got, "%s", sig);
        for (char *q = got; *q; q++) *q = (char)tolower((unsigned char)*q);
        if (strlen(sig) != 64 || CRYPTO_memcmp(want, got, 64) != 0)
            return signature_mismatch(c, parts[0], policy, sig);
        akid = parts[0];
    } else if (akid) {
        sig = form_str(fm, "signature");
        if (!sig) return missing_field(c, "Signature");
        if (nb_creds_lookup(akid, &cred) < 0 || !cred.active)
            return nb_s3_error(c, 403, "InvalidAccessKeyId",
                               "The AWS Access Key Id you provided does not exist in our records.",
                               "AWSAccessKeyId", akid, NULL);
        unsigned char mac[20];
        nb_hmac_sha1(cred.secret, strlen(cred.secret), policy, strlen(policy), mac);
        char want[32];
        nb_base64_encode(mac, 20, want);
        if (strlen(sig) != strlen(want) || CRYPTO_memcmp(want, sig, strlen(want)) != 0)
            return signature_mismatch(c, akid, policy, sig);
    } else {
        return missing_field(c, "AWSAccessKeyId");
    }
    /* temporary credentials: the session token travels as a form field */
    const char *token = form_str(fm, "x-amz-security-token");
    if (cred.session_token[0]) {
        if (!token || strcmp(token, cred.session_token) != 0)
            return nb_s3_error(c, 400, "InvalidToken",
                               "The provided token is malformed or otherwise invalid.", NULL);
        if (cred.expires && nb_clock_now() >= cred.expires)
            return nb_s3_error(c, 400, "ExpiredToken", "The provided token has expired.", NULL);
    } else if (token && *token) {
        return nb_s3_error(c, 400, "InvalidToken",
                           "The provided token is malformed or otherwise invalid.", NULL);
    }
    c->who = cred.who;
    snprintf(c->who.access_key, sizeof c->who.access_key, "%s", akid);
    return 0;
}

/* ---------------------------------------------------------------- object attributes */

/* Tagging field: <Tagging><TagSet><Tag><Key/><Value/></Tag>...</TagSet></Tagging>. */
static int parse_tagging(nb_call *c, const char *xml, const char **out)
{
    *out = NULL;
    xmlDocPtr doc = xmlReadMemory(xml, (int)strlen(xml), "tagging.xml", NULL,
                                  XML_PARSE_NONET | XML_PARSE_NOBLANKS);
    xmlNodePtr root = doc ? xmlDocGetRootElement(doc) : NULL;
    if (!root || xmlStrcmp(root->name, BAD_CAST "Tagging") != 0) {
        if (doc) xmlFreeDoc(doc);
        return nb_s3_error(c, 400, "MalformedXML",
                           "The XML you provided was not well-formed or did not validate against"
                           " our published schema",
                           NULL);
    }
    json_t *set = json_array();
    for (xmlNodePtr ts = root->children; ts; ts = ts->next) {
        if (ts->type != XML_ELEMENT_NODE || xmlStrcmp(ts->name, BAD_CAST "TagSet")) continue;
        for (xmlNodePtr t = ts->children; t; t = t->next) {
            if (t->type != XML_ELEMENT_NODE || xmlStrcmp(t->name, BAD_CAST "Tag")) continue;
            json_t *tag = json_object();
            for (xmlNodePtr kv = t->children; kv; kv = kv->next) {
                if (kv->type != XML_ELEMENT_NODE) continue;
                xmlChar *s = xmlNodeGetContent(kv);
                json_object_set_new(tag, (const char *)kv->name, json_string((const char *)s));
                xmlFree(s);
            }
            json_array_append_new(set, tag);
        }
    }
    xmlFreeDoc(doc);
    int rc = nb_s3_tags_from_input(c, set, true, out);
    json_decref(set);
    if (rc == 0 && *out && strcmp(*out, "[]") == 0) *out = NULL;
    return rc;
}

static double parse_http_date(const char *s)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *e = strptime(s, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!e || *e) return -1;
    return (double)timegm(&tm);
}

/* The form's system fields and metadata as an input document, so the attributes are built
 * by the same code as PutObject's (nb_s3_build_attrs). */
static int form_input(nb_call *c, form *fm, const char *bucket, const char *key)
{
    static const char *const map[][2] = {
        {"content-type", "ContentType"},
        {"cache-control", "CacheControl"},
        {"content-disposition", "ContentDisposition"},
        {"content-encoding", "ContentEncoding"},
        {"content-language", "ContentLanguage"},
        {"x-amz-website-redirect-location", "WebsiteRedirectLocation"},
        {"x-amz-server-side-encryption", "ServerSideEncryption"},
        {"x-amz-server-side-encryption-aws-kms-key-id", "SSEKMSKeyId"},
        {"x-amz-storage-class", "StorageClass"},
        {"acl", "ACL"},
        {"x-amz-grant-full-control", "GrantFullControl"},
        {"x-amz-grant-read", "GrantRead"},
        {"x-amz-grant-read-acp", "GrantReadACP"},
        {"x-amz-grant-write-acp", "GrantWriteACP"},
        {"x-amz-server-side-encryption-customer-algorithm", "SSECustomerAlgorithm"},
        {"x-amz-server-side-encryption-customer-key", "SSECustomerKey"},
        {"x-amz-server-side-encryption-customer-key-md5", "SSECustomerKeyMD5"},
        {"x-amz-object-lock-mode", "ObjectLockMode"},
        {"x-amz-object-lock-legal-hold", "ObjectLockLegalHoldStatus"},
    };
    json_t *in = json_pack("{s:s,s:s}", "Bucket", bucket, "Key", key);
    if (!in) return nb_s3_nomem(c);
    if (c->input) json_decref(c->input);
    c->input = in;
    json_t *meta = json_object();
    for (size_t i = 0; i < fm->n; i++) {
        field *f = &fm->f[i];
        for (size_t k = 0; k < NB_ARRAY_LEN(map); k++)
            if (!strcmp(f->name, map[k][0]) && !json_object_get(in, map[k][1]))
                json_object_set_new(in, map[k][1], json_string(f->value));
        if (!strncmp(f->name, "x-amz-meta-", 11) && f->name[11])
            json_object_set_new(meta, f->name + 11, json_string(f->value));
    }
    json_object_set_new(in, "Metadata", meta);
    const char *exp = form_str(fm, "expires");
    if (exp) {
        double t = parse_http_date(exp);
        if (t >= 0) json_object_set_new(in, "Expires", json_real(t));
    }
    const char *bk = form_str(fm, "x-amz-server-side-encryption-bucket-key-enabled");
    if (bk && !strcasecmp(bk, "true")) json_object_set_new(in, "BucketKeyEnabled", json_true());
    /* as the header's timestamp member; text that is no date stays text, which the lock
     * check refuses (InvalidArgument) */
    const char *until = form_str(fm, "x-amz-object-lock-retain-until-date");
    double ut;
    if (until)
        json_object_set_new(in, "ObjectLockRetainUntilDate",
                            nb_time_parse(until, strlen(until), &ut) == 0 ? json_real(ut)
                                                                          : json_string(until));
    return 0;
}

/* ---------------------------------------------------------------- the file */

typedef struct file_ctx {
    nb_call *c;
    nb_s3_writer *w;
    int64_t max;
} file_ctx;

static int file_sink(void *ud, const char *p, size_t n)
{
    file_ctx *f = ud;
    if (f->w->size + (int64_t)n > f->max) {
        char sz[32], mx[32];
        snprintf(sz, sizeof sz, "%lld", (long long)(f->w->size + (int64_t)n));
        snprintf(mx, sizeof mx, "%lld", (long long)f->max);
        return nb_s3_error(f->c, 400, "EntityTooLarge",
                           "Your proposed upload exceeds the maximum allowed size", "ProposedSize",
                           sz, "MaxSizeAllowed", mx, NULL);
    }
    if (nb_s3_writer_write(f->w, p, n) < 0) return nb_s3_internal(f->c, "cannot write a content file");
    return 0;
}

/* Where a finished writer's bytes are (a file, or inline in the database for small ones),
 * and its encryption record, into o as arena copies. false when out of memory. */
static bool post_writer_result(nb_call *c, nb_s3_writer *w, nb_s3_object *o)
{
    if (w->enc_len) {
        unsigned char *e = nb_arena_alloc(c->arena, w->enc_len);
        if (!e) return false;
        memcpy(e, w->enc, w->enc_len);
        o->enc = e;
        o->enc_len = w->enc_len;
    }
    if (w->is_inline) {
        void *d = nb_arena_alloc(c->arena, (size_t)w->size + 1);
        if (!d) return false;
        memcpy(d, w->buf, (size_t)w->size);
        o->data = d;
        o->data_len = (size_t)w->size;
        o->blob = NULL;
        return true;
    }
    o->blob = nb_arena_strdup(c->arena, w->id);
    return o->blob != NULL;
}

static void sse_forget(nb_s3_sse *sse)
{
    volatile unsigned char *k = sse->key;
    for (size_t i = 0; i < sizeof sse->key; i++) k[i] = 0;
}

/* The encryption members of a write as response headers. */
static void sse_headers(nb_call *c, const char *attrs, const nb_s3_sse *sse)
{
    json_t *a = json_loads(attrs, 0, NULL), *out = json_object();
    nb_s3_sse_output(out, json_string_value(json_object_get(a, "ServerSideEncryption")), sse);
    static const char *const map[][2] = {
        {"ServerSideEncryption", "x-amz-server-side-encryption"},
        {"SSECustomerAlgorithm", "x-amz-server-side-encryption-customer-algorithm"},
        {"SSECustomerKeyMD5", "x-amz-server-side-encryption-customer-key-MD5"},
    };
    for (size_t i = 0; i < NB_ARRAY_LEN(map); i++) {
        const char *v = json_string_value(json_object_get(out, map[i][0]));
        if (v) nb_s3_add_header(c, map[i][1], v);
    }
    if (json_is_true(json_object_get(out, "BucketKeyEnabled")))
        nb_s3_add_header(c, "x-amz-server-side-encryption-bucket-key-enabled", "true");
    json_decref(out);
    json_decref(a);
}

/* Key with every "${filename}" replaced by the uploaded file's name. */
static char *expand_key(nb_call *c, const char *key, const char *filename)
{
    nb_buf b;
    nb_buf_init(&b);
    for (const char *p = key; *p;) {
        if (!strncmp(p, "${filename}", 11)) {
            nb_buf_puts(&b, filename ? filename : "");
            p += 11;
        } else {
            nb_buf_putc(&b, *p++);
        }
    }
    char *out = nb_arena_strndup(c->arena, b.data ? b.data : "", b.len);
    nb_buf_free(&b);
    return out;
}

static bool header_safe(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f) return false;
    return true;
}

static void url_part(nb_buf *b, const char *s, bool keep_slash)
{
    nb_url_encode(b, s, strlen(s), keep_slash);
}

/* The form's x-amz-checksum-<algorithm> field (at most one), as PutObject's header: the
 * file must then hash to it (BadDigest). x-amz-checksum-algorithm alone asks for the
 * checksum to be computed and stored. */
typedef struct post_ck {
    nb_cksum_algo algo;
    const char *expect; /* base64, or NULL */
} post_ck;

static const char *field_of(void *ud, const char *name)
{
    return form_str(ud, name);
}

static int form_checksum(nb_call *c, form *fm, post_ck *ck)
{
    if (nb_s3_checksum_given(c, field_of, fm, &ck->algo, &ck->expect)) return -1;
    const char *alg = form_str(fm, "x-amz-checksum-algorithm");
    if (alg) {
        nb_cksum_algo a = nb_cksum_algo_from_name(alg, strlen(alg));
        if (a == NB_CKSUM_NONE || (ck->algo != NB_CKSUM_NONE && a != ck->algo))
            return nb_s3_checksum_unsupported(c);
        ck->algo = a;
    }
    return 0;
}

/* AWS's policy documents may write a literal '$' as \$ inside strings (its table of
 * escapes), which JSON does not know: drop the backslash of each such escape in place, leaving
 * every other escape to the JSON parser (\\$ stays a backslash, then '$'). Returns the new
 * length. */
static size_t unescape_dollar(char *p, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] == '\\' && i + 1 < n) {
            if (p[i + 1] != '$') p[o++] = p[i];
            p[o++] = p[++i];
            continue;
        }
        p[o++] = p[i];
    }
    return o;
}

/* ---------------------------------------------------------------- the handler */

/* Read the fields up to the file part (the fields after it are ignored, as on S3). Returns 1
 * with *fh the file part's headers, 0 when the form has no file, -1 on error. */
static int read_fields(nb_call *c, nb_form_reader *m, form *fm, nb_form_part *fh)
{
    for (;;) {
        nb_form_part h;
        int rc = nb_form_next(m, &h, c->arena);
        if (rc < 0) return form_error(c, rc);
        if (rc == 0) return 0;
        if (!strcasecmp(h.name, "file")) {
            *fh = h;
            return 1;
        }
        nb_buf_reset(&fm->cur);
        rc = nb_form_body(m, field_sink, fm);
        if (fm->too_large || fm->n >= MAX_FIELDS)
            return nb_s3_error(c, 400, "MaxPostPreDataLengthExceededError",
                               "Your POST request fields preceding the upload file were too large.",
                               NULL);
        if (rc == NB_FORM_ESINK) return nb_s3_nomem(c);
        if (rc < 0) return form_error(c, rc);
        if (memchr(fm->cur.data ? fm->cur.data : "", 0, fm->cur.len)) return malformed(c);
        if (form_get(fm, h.name)) continue; /* the first occurrence counts */
        field *f = &fm->f[fm->n];
        f->name = nb_arena_strdup(c->arena, h.name);
        f->value = nb_arena_strndup(c->arena, fm->cur.data ? fm->cur.data : "", fm->cur.len);
        if (!f->name || !f->value) return nb_s3_nomem(c);
        for (char *p = f->name; *p; p++) *p = (char)tolower((unsigned char)*p);
        f->len = fm->cur.len;
        f->covered = false;
        fm->n++;
    }
}

static int post_file(nb_call *c, nb_form_reader *m, post_ctx *x, nb_s3_bucket *b,
                     const char *bucket, const char *key, const char *attrs, const char *tags,
                     const char *sc, nb_s3_sse *sse, const nb_s3_lock *lock,
                     const post_ck *ck);
static int post_answer(nb_call *c, form *fm, const char *bucket, const char *key, bool vhost);

static int post_object(nb_call *c, nb_form_reader *m, form *fm)
{
    /* the bucket: "/<bucket>" or "/<bucket>/", after virtual-hosted routing (the dispatcher
     * rewrote its own copy of the path; the route is a pure function of the Host header) */
    if (!c->svc) c->svc = nb_service_by_name("s3"); /* the dispatcher matched no operation */
    const char *up = c->http->path;
    size_t pn = c->http->path_len;
    bool vhost = c->svc && c->svc->host_route && c->svc->host_route(c->http, &up, &pn);
    char bucket[64] = "";
    if (pn > 1) {
        up++;
        pn--;
        if (up[pn - 1] == '/') pn--;
        char dec[256];
        ssize_t k = pn < sizeof dec ? nb_url_decode(up, pn, dec, false) : -1;
        if (k > 0 && (size_t)k < sizeof bucket) {
            memcpy(bucket, dec, (size_t)k);
            bucket[k] = 0;
        }
    }
    nb_s3_bucket b;
    int rc = nb_s3_bucket_get(nb_s3_g, bucket, &b, c->arena);
    if (rc) return nb_s3_store_error(c, rc, bucket, NULL);
    /* the bucket's CORS headers go on refusals of the form too, as on other answers */
    if (nb_call_header(c, "Origin")) {
        const nb_s3_bcfg *cc = nb_s3_bcfg_get(bucket);
        if (cc) nb_s3_cors_actual(c, cc);
        nb_s3_bcfg_put(cc);
    }

    rc = nb_form_init(m, nb_call_header(c, "content-type"), call_read, c);
    if (rc == 0) rc = nb_form_start(m);
    if (rc < 0) return form_error(c, rc);
    nb_form_part fh = {0};
    rc = read_fields(c, m, fm, &fh);
    if (rc < 0) return -1;
    if (rc == 0)
        return nb_s3_error(c, 400, "InvalidArgument",
                           "POST requires exactly one file upload per request.", "ArgumentName",
                           "file", "ArgumentValue", "0", NULL);

    const char *key_field = form_str(fm, "key");
    if (!key_field) return missing_field(c, "key");

    /* policy and signature */
    const char *key = expand_key(c, key_field, fh.filename);
    if (!key) return nb_s3_nomem(c);
    post_ctx x = {.c = c, .fm = fm, .bucket = bucket, .key = key, .len_min = 0, .len_max = -1};
    const char *policy = form_str(fm, "policy");
    bool signed_form = form_str(fm, "awsaccesskeyid") || form_str(fm, "x-amz-credential") ||
                       form_str(fm, "x-amz-signature") || form_str(fm, "signature");
    if (!policy && signed_form) return missing_field(c, "Policy");
    if (policy) {
        if (authenticate(c, fm, policy)) return -1;
        size_t pl = strlen(policy);
        unsigned char *raw = nb_arena_alloc(c->arena, pl + 4);
        ssize_t rn = raw ? nb_base64_decode(policy, pl, raw) : -1;
        if (rn < 0) return invalid_policy(c, "Invalid Base64 encoding.");
        json_error_t je;
        x.policy = json_loadb((const char *)raw, unescape_dollar((char *)raw, (size_t)rn), 0,
                              &je);
        if (!json_is_object(x.policy)) {
            json_decref(x.policy);
            return invalid_policy(c, "Invalid JSON.");
        }
        rc = check_policy(&x);
        json_decref(x.policy);
        if (rc) return -1;
    }
    /* else: an anonymous upload, which only a bucket policy or ACL open to everyone admits */

    size_t key_len = strlen(key);
    if (key_len == 0)
        return nb_s3_error(c, 400, "InvalidArgument", "User key must have a length greater than 0.",
                           "ArgumentName", "key", "ArgumentValue", "", NULL);
    if (nb_s3_check_key(c, key_len)) return -1;
    if (form_input(c, fm, bucket, key)) return -1;
    post_ck ck;
    if (form_checksum(c, fm, &ck)) return -1;

    /* may the signer (or anyone) write here: identity policies, the bucket's policy and ACLs
     * (the service's resource_policy hook), the ACL fields against the bucket's settings */
    const char *owner = NULL;
    const char *rpol = c->svc && c->svc->resource_policy ? c->svc->resource_policy(c, &owner) : NULL;
    if (c->err.code[0]) return -1;
    char *arn = nb_arena_printf(c->arena, "arn:aws:s3:::%s/%s", bucket, key);
    nb_authz_check_args aa = {.action = "s3:PutObject", .resource = arn,
                              .resource_policy = rpol, .resource_account = owner};
    if (nb_authz_check(c, &aa)) return -1;
    const nb_s3_bcfg *cfg = nb_s3_bcfg_get(bucket);
    rc = cfg ? nb_s3_acl_precheck(c, cfg) : 0;
    nb_s3_bcfg_put(cfg);
    if (rc < 0) return -1;
    if (nb_s3_need_bucket(c, bucket, &b)) return -1;
    nb_s3_sse sse;
    if (nb_s3_sse_for_write(c, &b, &sse)) return -1;

    const char *attrs, *tags = NULL, *sc;
    if (nb_s3_build_attrs(c, &attrs) || nb_s3_storage_class(c, &sc)) return -1;
    const char *tagging = form_str(fm, "tagging");
    if (tagging && parse_tagging(c, tagging, &tags)) return -1;
    /* Object Lock fields, else the bucket's default retention (lock.c) */
    nb_s3_lock lock;
    bool lock_asked;
    if (nb_s3_lock_from_request(c, &b, &lock, &lock_asked) ||
        nb_s3_lock_default(c, &b, nb_clock_now_f(), &lock)) {
        sse_forget(&sse);
        return -1;
    }
    rc = post_file(c, m, &x, &b, bucket, key, attrs, tags, sc, &sse, &lock, &ck);
    sse_forget(&sse);
    if (rc) return -1;
    return post_answer(c, fm, bucket, key, vhost);
}

/* The file part, streamed into a new content unit (small ones inline, encrypted as the bucket
 * or the form asks), then committed as the new version of key. */
static int post_file(nb_call *c, nb_form_reader *m, post_ctx *x, nb_s3_bucket *b,
                     const char *bucket, const char *key, const char *attrs, const char *tags,
                     const char *sc, nb_s3_sse *sse, const nb_s3_lock *lock,
                     const post_ck *ck)
{
    int rc;
    size_t key_len = strlen(key);
    nb_s3_writer w;
    if (nb_s3_writer_start(nb_s3_store_content(nb_s3_g), &w, ck->algo, NB_S3_INLINE_MAX,
                           sse) < 0)
        return nb_s3_internal(c, "cannot create a content file");
    file_ctx fc = {c, &w, x->len_max >= 0 && x->len_max < POST_MAX_OBJECT ? x->len_max
                                                                           : POST_MAX_OBJECT};
    rc = nb_form_body(m, file_sink, &fc);
    if (rc < 0) {
        nb_s3_writer_free(&w, true);
        return form_error(c, rc);
    }
    if (w.size < x->len_min) {
        char sz[32], mn[32];
        snprintf(sz, sizeof sz, "%lld", (long long)w.size);
        snprintf(mn, sizeof mn, "%lld", (long long)x->len_min);
        nb_s3_writer_free(&w, true);
        return nb_s3_error(c, 400, "EntityTooSmall",
                           "Your proposed upload is smaller than the minimum allowed size",
                           "ProposedSize", sz, "MinSizeAllowed", mn, NULL);
    }
    /* the rest of the form (fields after the file are ignored) must still be well formed */
    for (;;) {
        nb_form_part h;
        rc = nb_form_next(m, &h, c->arena);
        if (rc == 0) break;
        if (rc > 0) rc = nb_form_body(m, NULL, NULL);
        if (rc < 0) {
            nb_s3_writer_free(&w, true);
            return form_error(c, rc);
        }
    }
    unsigned char md5[16], ckraw[NB_CKSUM_MAX_RAW];
    size_t ckn = 0;
    if (nb_s3_writer_finish(&w, md5, ckraw, &ckn) < 0) {
        nb_s3_writer_free(&w, true);
        return nb_s3_internal(c, "cannot make a content file durable");
    }
    char ck_b64[NB_CKSUM_MAX_B64] = "";
    if (ckn) nb_cksum_to_b64(ckraw, ckn, ck_b64);
    if (ck->expect && ckn && strcmp(ck->expect, ck_b64) != 0) {
        nb_s3_writer_free(&w, true);
        char *msg = nb_arena_printf(c->arena, "The %s you specified did not match the calculated"
                                    " checksum.", nb_cksum_name(ck->algo));
        return nb_s3_error(c, 400, "BadDigest", msg ? msg : "Bad checksum", NULL);
    }
    nb_s3_object o;
    memset(&o, 0, sizeof o);
    o.key = key;
    o.key_len = key_len;
    o.size = w.size;
    nb_hex(md5, 16, o.etag);
    o.last_modified = nb_clock_now_f();
    o.storage_class = sc;
    o.owner = nb_s3_object_owner(c, b); /* Object Ownership (acl.c) */
    o.attrs = attrs;
    o.tags = tags;
    o.lock = *lock;
    const char *ckm = nb_s3_ck_member(ck->algo);
    if (ckm && ckn) o.checksums = nb_arena_printf(c->arena, "{\"%s\":\"%s\"}", ckm, ck_b64);
    unsigned char *crcs = nb_arena_alloc(c->arena, w.crcs.len);
    if (crcs) memcpy(crcs, w.crcs.data, w.crcs.len);
    o.crcs = crcs;
    o.crcs_len = w.crcs.len;
    bool stored = post_writer_result(c, &w, &o);
    nb_s3_writer_free(&w, false);
    if (!stored || !crcs) {
        if (o.blob) nb_s3_content_unlink(nb_s3_store_content(nb_s3_g), o.blob);
        return nb_s3_nomem(c);
    }
    nb_s3_put p = {.bucket = bucket, .o = &o};
    rc = nb_s3_object_put(nb_s3_g, &p);
    if (rc) {
        if (o.blob) nb_s3_content_unlink(nb_s3_store_content(nb_s3_g), o.blob);
        return nb_s3_store_error(c, rc, bucket, key);
    }
    nb_s3_object_written(c, bucket, &o); /* its ACL fields (acl.c) */
    nb_s3_classes_written(c, b, &o);     /* x-amz-expiration, archive tier (lifecycle.h) */
    nb_s3_event_created(c, "s3:ObjectCreated:Post", bucket, &o); /* notifications (events.c) */
    const char *etag = nb_s3_quote(c, o.etag);
    nb_s3_add_header(c, "ETag", etag);
    if (p.versioned) nb_s3_add_header(c, "x-amz-version-id", o.version_id);
    if (o.checksums) nb_s3_add_header(c, nb_cksum_header(ck->algo), nb_arena_strdup(c->arena, ck_b64));
    sse_headers(c, attrs, sse);
    return 0;
}

/* Status, Location and body of a stored upload (success_action_redirect / _status). */
static int post_answer(nb_call *c, form *fm, const char *bucket, const char *key, bool vhost)
{
    size_t key_len = strlen(key);
    const char *etag = NULL;
    for (size_t i = 0; i < c->out_nheaders; i++)
        if (!strcmp(c->out_headers[i].name, "ETag")) etag = c->out_headers[i].value;
    if (!etag) etag = "";
    /* x-amz-id-2 as the dispatcher derives it for other S3 answers */
    if (c->request_id) {
        char host_id[80];
        nb_host_id(c->request_id, host_id);
        nb_s3_add_header(c, "x-amz-id-2", host_id);
    }

    nb_buf loc;
    nb_buf_init(&loc);
    const char *host = nb_call_header(c, "host");
    nb_buf_printf(&loc, "http://%s/", host && header_safe(host) ? host : "localhost");
    if (!vhost) {
        url_part(&loc, bucket, false);
        nb_buf_putc(&loc, '/');
    }
    url_part(&loc, key, false);
    char *location = nb_arena_strndup(c->arena, loc.data ? loc.data : "", loc.len);
    nb_buf_free(&loc);

    const char *redirect = form_str(fm, "success_action_redirect");
    if (!redirect) redirect = form_str(fm, "redirect");
    if (redirect && strstr(redirect, "://") && header_safe(redirect)) {
        nb_buf r;
        nb_buf_init(&r);
        nb_buf_puts(&r, redirect);
        nb_buf_putc(&r, strchr(redirect, '?') ? '&' : '?');
        nb_buf_puts(&r, "bucket=");
        url_part(&r, bucket, false);
        nb_buf_puts(&r, "&key=");
        url_part(&r, key, false);
        nb_buf_puts(&r, "&etag=");
        url_part(&r, etag, false);
        char *to = nb_arena_strndup(c->arena, r.data ? r.data : "", r.len);
        nb_buf_free(&r);
        if (!to) return nb_s3_nomem(c);
        nb_s3_add_header(c, "Location", to);
        c->out_status = 303;
        return 0;
    }
    if (location) nb_s3_add_header(c, "Location", location);
    const char *st = form_str(fm, "success_action_status");
    if (st && !strcmp(st, "200")) {
        c->out_status = 200;
    } else if (st && !strcmp(st, "201")) {
        nb_buf x2;
        nb_buf_init(&x2);
        nb_buf_puts(&x2, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Location>");
        nb_xml_escape(&x2, location ? location : "", location ? strlen(location) : 0);
        nb_buf_puts(&x2, "</Location><Bucket>");
        nb_xml_escape(&x2, bucket, strlen(bucket));
        nb_buf_puts(&x2, "</Bucket><Key>");
        nb_xml_escape(&x2, key, key_len);
        nb_buf_puts(&x2, "</Key><ETag>");
        nb_buf_puts(&x2, etag); /* hex in quotes, written as S3 does (no &quot;) */
        nb_buf_puts(&x2, "</ETag></PostResponse>");
        c->out_body = nb_arena_strndup(c->arena, x2.data ? x2.data : "", x2.len);
        c->out_body_len = c->out_body ? x2.len : 0;
        nb_buf_free(&x2);
        nb_s3_add_header(c, "Content-Type", "application/xml");
        c->out_status = 201;
    } else {
        c->out_status = 204;
    }
    return 0;
}

int nb_s3_post_object(nb_call *c)
{
    nb_form_reader m;
    memset(&m, 0, sizeof m);
    form *fm = calloc(1, sizeof *fm);
    if (!fm) return nb_s3_nomem(c);
    nb_buf_init(&fm->cur);
    int rc = post_object(c, &m, fm);
    nb_buf_free(&fm->cur);
    free(fm);
    nb_form_free(&m);
    return rc;
}
