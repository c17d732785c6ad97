/* credentials.c: the lesser IAM credentials: server certificates (validated PEM, key checked
 * against the certificate), virtual MFA devices (TOTP seeds, codes checked as AWS checks
 * them), SSH public keys and X.509 signing certificates of users. All live in the objects
 * table (src/iam/identity.c). */
#include "svc/iam/iam.h"
#include "svc/iam/qrcode.h"

#include <ctype.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>

#define MAX_SERVER_CERTS 20
#define MAX_MFA_PER_USER 8
#define MAX_SSH_PER_USER 5
#define MAX_SIGNING_PER_USER 2

/* ---- shared helpers ---- */

/* One page of a fully built list (these lists are small): moves the slice into out[member]. */
static void page_slice(nb_call *c, const iam_page *pg, json_t *all, const char *member)
{
    json_t *list = json_array();
    size_t n = json_array_size(all), fetched = 0;
    for (size_t i = (size_t)pg->offset; i < n && fetched < (size_t)pg->max + 1; i++, fetched++)
        json_array_append(list, json_array_get(all, i));
    json_object_set_new(c->output, member, list);
    iam_page_out(c->output, pg, fetched, list);
}

/* The user named by UserName, or the calling IAM user; root gets "" (no user). */
static int user_or_caller(nb_call *c, sqlite3 *h, char out[129], bool root_ok)
{
    const char *name = nb_in_str(c, "UserName");
    if (!name) {
        if (c->who.type == NB_PRINCIPAL_USER) {
            name = c->who.name;
        } else if (root_ok && c->who.type == NB_PRINCIPAL_ROOT) {
            out[0] = 0;
            return 0;
        } else {
            return iam_validation(c, "Must specify userName when calling with non-User credentials");
        }
    }
    if (!iam_user_name(h, IAM_ACCOUNT(c), name, out)) return iam_no_such(c, "The user with name %s cannot be found.", name);
    return 0;
}

static json_t *tags_or_null(sqlite3 *h, nb_call *c, const char *kind, const char *owner)
{
    json_t *t = iam_tags_out(h, IAM_ACCOUNT(c), kind, owner);
    if (json_array_size(t)) return t;
    json_decref(t);
    return NULL;
}

static X509 *pem_cert(const char *pem)
{
    BIO *b = BIO_new_mem_buf(pem, -1);
    X509 *x = b ? PEM_read_bio_X509(b, NULL, NULL, NULL) : NULL;
    BIO_free(b);
    return x;
}

static double asn1_time_epoch(const ASN1_TIME *t)
{
    struct tm tm;
    memset(&tm, 0, sizeof(tm));
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return 0;
    return (double)timegm(&tm);
}

/* ---- server certificates ---- */

#define SC_TAGS "server-certificate"

static json_t *sc_meta(nb_call *c, const iam_obj *o)
{
    json_t *m = json_pack("{s:s, s:s, s:s, s:s++++, s:f}", "Path", o->path, "ServerCertificateName", o->name,
                          "ServerCertificateId", o->id, "Arn", "arn:aws:iam::", IAM_ACCOUNT(c), ":server-certificate",
                          o->path, o->name, "UploadDate", o->created);
    json_t *exp = json_object_get(o->doc, "Expiration");
    if (exp) json_object_set(m, "Expiration", exp);
    return m;
}

static int need_sc(nb_call *c, sqlite3 *h, const char *name, iam_obj *o)
{
    if (!name || !iam_obj_get(h, IAM_ACCOUNT(c), "server-certificate", name, o))
        return iam_no_such(c, "The Server Certificate with name %s cannot be found.", name ? name : "");
    return 0;
}

static int upload_sc_tx(nb_call *c, sqlite3 *h)
{
    const char *name = nb_in_str(c, "ServerCertificateName"), *path = nb_in_str(c, "Path");
    const char *body = nb_in_str(c, "CertificateBody"), *key = nb_in_str(c, "PrivateKey");
    const char *chain = nb_in_str(c, "CertificateChain");
    json_t *tags = json_object_get(c->input, "Tags");
    if (iam_check_name(c, name, 128, "serverCertificateName") || iam_check_path(c, path, "path") ||
        iam_check_tags(c, tags, 0))
        return -1;
    iam_obj o;
    if (iam_obj_get(h, IAM_ACCOUNT(c), "server-certificate", name, &o)) {
        json_decref(o.doc);
        return iam_exists(c, "The Server Certificate with name %s already exists.", name);
    }
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'server-certificate'", "s",
                  IAM_ACCOUNT(c)) >= MAX_SERVER_CERTS)
        return iam_limit(c, "Cannot exceed quota for ServerCertificatesPerAccount: %d", MAX_SERVER_CERTS);
    X509 *x = body ? pem_cert(body) : NULL;
    if (!x) return nb_call_error(c, 400, "MalformedCertificate", "Unable to parse certificate. Please ensure the certificate is in PEM format.");
    BIO *kb = key ? BIO_new_mem_buf(key, -1) : NULL;
    EVP_PKEY *pk = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
    BIO_free(kb);
    if (!pk) {
        X509_free(x);
        return nb_call_error(c, 400, "MalformedCertificate", "Unable to parse private key.");
    }
    bool match = X509_check_private_key(x, pk) == 1;
    double expires = asn1_time_epoch(X509_get0_notAfter(x));
    EVP_PKEY_free(pk);
    X509_free(x);
    if (!match) return nb_call_error(c, 400, "KeyPairMismatch", "Public key in certificate doesn't match private key.");
    if (chain) {
        X509 *cx = pem_cert(chain);
        if (!cx)
            return nb_call_error(c, 400, "MalformedCertificate",
                                 "Unable to parse certificate chain. Please ensure the chain is in PEM format.");
        X509_free(cx);
    }
    memset(&o, 0, sizeof(o));
    snprintf(o.name, sizeof(o.name), "%s", name);
    snprintf(o.path, sizeof(o.path), "%s", path ? path : "/");
    nb_identity_new_id("ASCA", o.id);
    o.created = nb_clock_now_f();
    /* The private key is kept for the load balancers and CDN that will use the certificate;
     * IAM never returns it. */
    o.doc = json_pack("{s:s, s:s, s:f}", "CertificateBody", body, "PrivateKey", key, "Expiration", expires);
    if (chain) json_object_set_new(o.doc, "CertificateChain", json_string(chain));
    int rc = iam_obj_put(h, IAM_ACCOUNT(c), "server-certificate", &o);
    if (!rc && tags) rc = iam_tags_put(h, IAM_ACCOUNT(c), SC_TAGS, name, tags);
    if (rc) {
        json_decref(o.doc);
        return iam_db_error(c, h);
    }
    c->output = json_pack("{s:o}", "ServerCertificateMetadata", sc_meta(c, &o));
    json_decref(o.doc);
    json_t *t = tags_or_null(h, c, SC_TAGS, name);
    if (t) json_object_set_new(c->output, "Tags", t);
    return 0;
}
int iam_upload_server_certificate(nb_call *c) { return iam_write(c, upload_sc_tx); }

static int get_sc_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    if (need_sc(c, h, nb_in_str(c, "ServerCertificateName"), &o)) return -1;
    json_t *sc = json_pack("{s:o, s:O}", "ServerCertificateMetadata", sc_meta(c, &o), "CertificateBody",
                           json_object_get(o.doc, "CertificateBody"));
    if (json_object_get(o.doc, "CertificateChain"))
        json_object_set(sc, "CertificateChain", json_object_get(o.doc, "CertificateChain"));
    json_decref(o.doc);
    json_t *t = tags_or_null(h, c, SC_TAGS, o.name);
    if (t) json_object_set_new(sc, "Tags", t);
    c->output = json_pack("{s:o}", "ServerCertificate", sc);
    return 0;
}
int iam_get_server_certificate(nb_call *c) { return iam_read(c, get_sc_tx); }

static int list_sc_tx(nb_call *c, sqlite3 *h)
{
    iam_page pg;
    if (iam_page_in(c, &pg)) return -1;
    const char *prefix = nb_in_str(c, "PathPrefix");
    if (!prefix) prefix = "/";
    json_t *names = iam_obj_names(h, IAM_ACCOUNT(c), "server-certificate", NULL), *all = json_array(), *n;
    size_t i;
    json_array_foreach(names, i, n)
    {
        iam_obj o;
        if (!iam_obj_get(h, IAM_ACCOUNT(c), "server-certificate", json_string_value(n), &o)) continue;
        if (strncmp(o.path, prefix, strlen(prefix)) == 0) json_array_append_new(all, sc_meta(c, &o));
        json_decref(o.doc);
    }
    json_decref(names);
    c->output = json_object();
    page_slice(c, &pg, all, "ServerCertificateMetadataList");
    json_decref(all);
    return 0;
}
int iam_list_server_certificates(nb_call *c) { return iam_read(c, list_sc_tx); }

static int update_sc_tx(nb_call *c, sqlite3 *h)
{
    const char *new_name = nb_in_str(c, "NewServerCertificateName"), *new_path = nb_in_str(c, "NewPath");
    if (iam_check_name(c, new_name, 128, "newServerCertificateName") || iam_check_path(c, new_path, "newPath"))
        return -1;
    iam_obj o;
    if (need_sc(c, h, nb_in_str(c, "ServerCertificateName"), &o)) return -1;
    char old[1024];
    snprintf(old, sizeof(old), "%s", o.name);
    int rc = 0;
    if (new_name && strcasecmp(new_name, old) != 0) {
        iam_obj other;
        if (iam_obj_get(h, IAM_ACCOUNT(c), "server-certificate", new_name, &other)) {
            json_decref(other.doc);
            json_decref(o.doc);
            return iam_exists(c, "The Server Certificate with name %s already exists.", new_name);
        }
    }
    if (new_name) snprintf(o.name, sizeof(o.name), "%s", new_name);
    if (new_path) snprintf(o.path, sizeof(o.path), "%s", new_path);
    if (iam_obj_delete(h, IAM_ACCOUNT(c), "server-certificate", old) || iam_obj_put(h, IAM_ACCOUNT(c), "server-certificate", &o) ||
        nb_iq_exec(h, "UPDATE tags SET owner = ? WHERE account = ? AND kind = ? AND owner = ?", "ssss", o.name,
                   IAM_ACCOUNT(c), SC_TAGS, old))
        rc = iam_db_error(c, h);
    json_decref(o.doc);
    return rc;
}
int iam_update_server_certificate(nb_call *c)
{
    if (iam_authorize_target(c, "server-certificate", "ServerCertificateName", "NewServerCertificateName",
                             "newServerCertificateName", 128))
        return -1;
    return iam_write(c, update_sc_tx);
}

static int delete_sc_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    if (need_sc(c, h, nb_in_str(c, "ServerCertificateName"), &o)) return -1;
    json_decref(o.doc);
    if (iam_obj_delete(h, IAM_ACCOUNT(c), "server-certificate", o.name) ||
        nb_iq_exec(h, "DELETE FROM tags WHERE account = ? AND kind = ? AND owner = ?", "sss", IAM_ACCOUNT(c), SC_TAGS,
                   o.name))
        return iam_db_error(c, h);
    return 0;
}
int iam_delete_server_certificate(nb_call *c) { return iam_write(c, delete_sc_tx); }

static int sc_tags_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    if (need_sc(c, h, nb_in_str(c, "ServerCertificateName"), &o)) return -1;
    json_decref(o.doc);
    if (!strncmp(c->op_name, "Tag", 3)) return iam_tags_add_kind(c, h, SC_TAGS, o.name);
    if (!strncmp(c->op_name, "Untag", 5)) return iam_tags_remove_kind(c, h, SC_TAGS, o.name);
    return iam_tags_page(c, iam_tags_out(h, IAM_ACCOUNT(c), SC_TAGS, o.name));
}
int iam_tag_server_certificate(nb_call *c) { return iam_write(c, sc_tags_tx); }
int iam_untag_server_certificate(nb_call *c) { return iam_write(c, sc_tags_tx); }
int iam_list_server_certificate_tags(nb_call *c) { return iam_read(c, sc_tags_tx); }

/* ---- virtual MFA devices ---- */

static const char B32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/* AWS wants two consecutive codes near the current time (it tolerates some clock drift). */
static bool codes_ok(const char *seed, const char *c1, const char *c2)
{
    if (!seed || !c1 || !c2 || strlen(c1) != 6 || strlen(c2) != 6) return false;
    int a = atoi(c1), b = atoi(c2);
    /* Both the region clock and the host clock: an authenticator app reads the latter. */
    int64_t nows[2] = {(int64_t)nb_clock_now_f() / 30, (int64_t)time(NULL) / 30};
    for (int k = 0; k < 2; k++)
        for (int64_t s = nows[k] - 10; s <= nows[k] + 2; s++)
            if (nb_identity_totp(seed, s) == a && nb_identity_totp(seed, s + 1) == b) return true;
    return false;
}

static int need_mfa(nb_call *c, sqlite3 *h, iam_obj *o)
{
    const char *serial = nb_in_str(c, "SerialNumber");
    if (!serial || !iam_obj_get(h, IAM_ACCOUNT(c), "mfa", serial, o))
        return iam_no_such(c, "VirtualMFADevice with serial number %s doesn't exist.", serial ? serial : "");
    return 0;
}

static int create_vmfa_tx(nb_call *c, sqlite3 *h)
{
    const char *name = nb_in_str(c, "VirtualMFADeviceName"), *path = nb_in_str(c, "Path");
    json_t *tags = json_object_get(c->input, "Tags");
    if (iam_check_name(c, name, 226, "virtualMFADeviceName") || iam_check_path(c, path, "path") ||
        iam_check_tags(c, tags, 0))
        return -1;
    iam_obj o;
    memset(&o, 0, sizeof(o));
    snprintf(o.name, sizeof(o.name), "arn:aws:iam::%s:mfa%s%s", IAM_ACCOUNT(c), path ? path : "/", name);
    iam_obj old;
    if (iam_obj_get(h, IAM_ACCOUNT(c), "mfa", o.name, &old)) {
        json_decref(old.doc);
        return iam_exists(c, "MFADevice entity at the same path and name already exists.");
    }
    unsigned char raw[20];
    char seed[33];
    nb_random(raw, sizeof(raw));
    for (int i = 0; i < 32; i++) {
        int bit = i * 5, byte = bit / 8, sh = bit % 8;
        unsigned v = ((unsigned)raw[byte] << 8) | (byte + 1 < 20 ? raw[byte + 1] : 0);
        seed[i] = B32[(v >> (11 - sh)) & 31];
    }
    seed[32] = 0;
    snprintf(o.path, sizeof(o.path), "%s", path ? path : "/");
    o.created = nb_clock_now_f();
    o.doc = json_pack("{s:s}", "Seed", seed);
    int rc = iam_obj_put(h, IAM_ACCOUNT(c), "mfa", &o);
    json_decref(o.doc);
    if (rc || (tags && iam_tags_put(h, IAM_ACCOUNT(c), "mfa", o.name, tags))) return iam_db_error(c, h);
    /* Base32StringSeed is a blob: its bytes are the base32 text, base64-encoded on the wire.
     * QRCodePNG is the otpauth:// URI AWS encodes, as a QR code PNG (also a blob). */
    char b64[64];
    nb_base64_encode((const unsigned char *)seed, 32, b64);
    json_t *d = json_pack("{s:s, s:s}", "SerialNumber", o.name, "Base32StringSeed", b64);
    char uri[512];
    snprintf(uri, sizeof(uri),
             "otpauth://totp/Amazon%%20Web%%20Services:%s@%s?secret=%s&issuer=Amazon%%20Web%%20Services", name,
             IAM_ACCOUNT(c), seed);
    size_t png_n = 0;
    unsigned char *png = iam_qr_png(uri, &png_n);
    if (png) {
        char *enc = malloc(nb_base64_encoded_len(png_n) + 1);
        if (enc) {
            nb_base64_encode(png, png_n, enc);
            json_object_set_new(d, "QRCodePNG", json_string(enc));
            free(enc);
        }
        free(png);
    }
    json_t *t = tags_or_null(h, c, "mfa", o.name);
    if (t) json_object_set_new(d, "Tags", t);
    c->output = json_pack("{s:o}", "VirtualMFADevice", d);
    return 0;
}
int iam_create_virtual_mfa_device(nb_call *c) { return iam_write(c, create_vmfa_tx); }

static int delete_vmfa_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    if (need_mfa(c, h, &o)) return -1;
    json_decref(o.doc);
    if (o.owner[0]) return iam_conflict(c, "MFA device is still in use.");
    if (iam_obj_delete(h, IAM_ACCOUNT(c), "mfa", o.name) ||
        nb_iq_exec(h, "DELETE FROM tags WHERE account = ? AND kind = 'mfa' AND owner = ?", "ss", IAM_ACCOUNT(c), o.name))
        return iam_db_error(c, h);
    return 0;
}
int iam_delete_virtual_mfa_device(nb_call *c) { return iam_write(c, delete_vmfa_tx); }

static int list_vmfa_tx(nb_call *c, sqlite3 *h)
{
    iam_page pg;
    if (iam_page_in(c, &pg)) return -1;
    const char *status = nb_in_str(c, "AssignmentStatus");
    if (!status) status = "Any";
    if (iam_check_enum(c, status, "assignmentStatus", "Assigned|Unassigned|Any")) return -1;
    json_t *names = iam_obj_names(h, IAM_ACCOUNT(c), "mfa", NULL), *all = json_array(), *n;
    size_t i;
    json_array_foreach(names, i, n)
    {
        iam_obj o;
        if (!iam_obj_get(h, IAM_ACCOUNT(c), "mfa", json_string_value(n), &o)) continue;
        bool assigned = o.owner[0] != 0;
        if (!strcmp(status, "Any") || (assigned && !strcmp(status, "Assigned")) ||
            (!assigned && !strcmp(status, "Unassigned"))) {
            json_t *d = json_pack("{s:s}", "SerialNumber", o.name);
            if (assigned) {
                json_t *u = iam_user_json(c, h, o.owner, false);
                if (u) json_object_set_new(d, "User", u);
                json_object_set(d, "EnableDate", json_object_get(o.doc, "EnableDate"));
            }
            json_t *t = tags_or_null(h, c, "mfa", o.name);
            if (t) json_object_set_new(d, "Tags", t);
            json_array_append_new(all, d);
        }
        json_decref(o.doc);
    }
    json_decref(names);
    c->output = json_object();
    page_slice(c, &pg, all, "VirtualMFADevices");
    json_decref(all);
    return 0;
}
int iam_list_virtual_mfa_devices(nb_call *c) { return iam_read(c, list_vmfa_tx); }

static int enable_mfa_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    iam_obj o;
    if (user_or_caller(c, h, user, false)) return -1;
    if (need_mfa(c, h, &o)) return -1;
    int rc = 0;
    if (o.owner[0])
        rc = iam_exists(c, "MFA Device is already in use.");
    else if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'mfa' AND owner = ?", "ss",
                       IAM_ACCOUNT(c), user) >= MAX_MFA_PER_USER)
        rc = iam_limit(c, "Cannot exceed quota for MFADevicesPerUser: %d", MAX_MFA_PER_USER);
    else if (!codes_ok(json_string_value(json_object_get(o.doc, "Seed")), nb_in_str(c, "AuthenticationCode1"),
                       nb_in_str(c, "AuthenticationCode2")))
        rc = nb_call_error(c, 403, "InvalidAuthenticationCode", "Authentication code for device is not valid.");
    if (!rc) {
        snprintf(o.owner, sizeof(o.owner), "%s", user);
        json_object_set_new(o.doc, "EnableDate", json_real(nb_clock_now_f()));
        if (iam_obj_put(h, IAM_ACCOUNT(c), "mfa", &o)) rc = iam_db_error(c, h);
    }
    json_decref(o.doc);
    return rc;
}
int iam_enable_mfa_device(nb_call *c) { return iam_write(c, enable_mfa_tx); }

/* The device must be enabled for the user named (or the caller). */
static int need_user_mfa(nb_call *c, sqlite3 *h, char user[129], iam_obj *o)
{
    if (user_or_caller(c, h, user, false)) return -1;
    const char *serial = nb_in_str(c, "SerialNumber");
    if (!serial || !iam_obj_get(h, IAM_ACCOUNT(c), "mfa", serial, o))
        return iam_no_such(c, "MFA Device with serial number %s does not exist.", serial ? serial : "");
    if (strcasecmp(o->owner, user) != 0) {
        json_decref(o->doc);
        return iam_no_such(c, "MFA Device with serial number %s does not exist.", serial);
    }
    return 0;
}

static int deactivate_mfa_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    iam_obj o;
    if (need_user_mfa(c, h, user, &o)) return -1;
    o.owner[0] = 0;
    json_object_del(o.doc, "EnableDate");
    int rc = iam_obj_put(h, IAM_ACCOUNT(c), "mfa", &o) ? iam_db_error(c, h) : 0;
    json_decref(o.doc);
    return rc;
}
int iam_deactivate_mfa_device(nb_call *c) { return iam_write(c, deactivate_mfa_tx); }

static int resync_mfa_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    iam_obj o;
    if (need_user_mfa(c, h, user, &o)) return -1;
    bool ok = codes_ok(json_string_value(json_object_get(o.doc, "Seed")), nb_in_str(c, "AuthenticationCode1"),
                       nb_in_str(c, "AuthenticationCode2"));
    json_decref(o.doc);
    return ok ? 0 : nb_call_error(c, 403, "InvalidAuthenticationCode", "Authentication code for device is not valid.");
}
int iam_resync_mfa_device(nb_call *c) { return iam_read(c, resync_mfa_tx); }

static int list_mfa_tx(nb_call *c, sqlite3 *h)
{
    iam_page pg;
    char user[129];
    if (iam_page_in(c, &pg) || user_or_caller(c, h, user, true)) return -1;
    json_t *all = json_array();
    if (user[0]) {
        json_t *names = iam_obj_names(h, IAM_ACCOUNT(c), "mfa", user), *n;
        size_t i;
        json_array_foreach(names, i, n)
        {
            iam_obj o;
            if (!iam_obj_get(h, IAM_ACCOUNT(c), "mfa", json_string_value(n), &o)) continue;
            json_array_append_new(all, json_pack("{s:s, s:s, s:O}", "UserName", o.owner, "SerialNumber", o.name,
                                                 "EnableDate", json_object_get(o.doc, "EnableDate")));
            json_decref(o.doc);
        }
        json_decref(names);
    }
    c->output = json_object();
    page_slice(c, &pg, all, "MFADevices");
    json_decref(all);
    return 0;
}
int iam_list_mfa_devices(nb_call *c) { return iam_read(c, list_mfa_tx); }

static int mfa_tags_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    if (need_mfa(c, h, &o)) return -1;
    json_decref(o.doc);
    if (!strncmp(c->op_name, "Tag", 3)) return iam_tags_add_kind(c, h, "mfa", o.name);
    if (!strncmp(c->op_name, "Untag", 5)) return iam_tags_remove_kind(c, h, "mfa", o.name);
    return iam_tags_page(c, iam_tags_out(h, IAM_ACCOUNT(c), "mfa", o.name));
}
int iam_tag_mfa_device(nb_call *c) { return iam_write(c, mfa_tags_tx); }
int iam_untag_mfa_device(nb_call *c) { return iam_write(c, mfa_tags_tx); }
int iam_list_mfa_device_tags(nb_call *c) { return iam_read(c, mfa_tags_tx); }

/* ---- SSH public keys ---- */

/* Parse an OpenSSH "ssh-rsa AAAA... comment" key (or a PEM public key): the RSA key and the
 * MD5 fingerprint of its wire blob, as AWS reports it. AWS accepts RSA keys of 2048 to 16384
 * bits only. */
static EVP_PKEY *ssh_key_parse(const char *body, char fp[48], const char **why)
{
    *why = "UnrecognizedPublicKeyEncoding";
    unsigned char *blob = NULL;
    size_t bl = 0;
    EVP_PKEY *pk = NULL;
    if (strncmp(body, "ssh-rsa ", 8) == 0) {
        const char *b = body + 8, *e = b;
        while (*e && !isspace((unsigned char)*e)) e++;
        blob = malloc((size_t)(e - b) + 4);
        ssize_t n = blob ? nb_base64_decode(b, (size_t)(e - b), blob) : -1;
        if (n < 0) goto out;
        bl = (size_t)n;
        /* string "ssh-rsa", mpint e, mpint n */
        const unsigned char *p = blob, *end = blob + bl;
        const unsigned char *part[3];
        uint32_t len[3];
        for (int i = 0; i < 3; i++) {
            if (end - p < 4) goto out;
            len[i] = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
            p += 4;
            if ((size_t)(end - p) < len[i]) goto out;
            part[i] = p;
            p += len[i];
        }
        if (len[0] != 7 || memcmp(part[0], "ssh-rsa", 7) != 0) goto out;
        *why = "InvalidPublicKey";
        BIGNUM *bn_e = BN_bin2bn(part[1], (int)len[1], NULL), *bn_n = BN_bin2bn(part[2], (int)len[2], NULL);
        OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
        OSSL_PARAM *params = NULL;
        if (bn_e && bn_n && bld && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, bn_n) &&
            OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) && (params = OSSL_PARAM_BLD_to_param(bld))) {
            EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
            if (ctx && EVP_PKEY_fromdata_init(ctx) == 1) EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params);
            EVP_PKEY_CTX_free(ctx);
        }
        OSSL_PARAM_free(params);
        OSSL_PARAM_BLD_free(bld);
        BN_free(bn_e);
        BN_free(bn_n);
    } else if (strstr(body, "-----BEGIN")) {
        BIO *b = BIO_new_mem_buf(body, -1);
        pk = b ? PEM_read_bio_PUBKEY(b, NULL, NULL, NULL) : NULL;
        BIO_free(b);
        if (pk && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA) {
            /* Rebuild the OpenSSH blob for the fingerprint. */
            BIGNUM *bn_n = NULL, *bn_e = NULL;
            EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_N, &bn_n);
            EVP_PKEY_get_bn_param(pk, OSSL_PKEY_PARAM_RSA_E, &bn_e);
            if (bn_n && bn_e && BN_num_bytes(bn_n) <= 2048 && BN_num_bytes(bn_e) <= 2048) {
                int ln = BN_num_bytes(bn_n) + 1, le = BN_num_bytes(bn_e) + 1;
                blob = malloc((size_t)(4 + 7 + 4 + le + 4 + ln));
                unsigned char *p = blob;
                const BIGNUM *bns[2] = {bn_e, bn_n};
                p[0] = p[1] = p[2] = 0, p[3] = 7, memcpy(p + 4, "ssh-rsa", 7), p += 11;
                for (int i = 0; i < 2; i++) {
                    unsigned char tmp[2050]; /* a leading zero + 16384 bits at most (checked above) */
                    int l = BN_bn2bin(bns[i], tmp + 1), off = 1;
                    if (tmp[1] & 0x80) tmp[0] = 0, off = 0, l++; /* mpint: a leading zero keeps it positive */
                    p[0] = (unsigned char)(l >> 24), p[1] = (unsigned char)(l >> 16), p[2] = (unsigned char)(l >> 8),
                    p[3] = (unsigned char)l;
                    memcpy(p + 4, tmp + off, (size_t)l);
                    p += 4 + l;
                }
                bl = (size_t)(p - blob);
            }
            BN_free(bn_n);
            BN_free(bn_e);
        }
    }
    if (pk && (EVP_PKEY_get_base_id(pk) != EVP_PKEY_RSA || EVP_PKEY_get_bits(pk) < 2048 ||
               EVP_PKEY_get_bits(pk) > 16384 || !blob)) {
        *why = "InvalidPublicKey";
        EVP_PKEY_free(pk);
        pk = NULL;
    }
    if (pk) {
        unsigned char md[16];
        unsigned ml = 0;
        EVP_Digest(blob, bl, md, &ml, EVP_md5(), NULL);
        for (int i = 0; i < 16; i++) snprintf(fp + 3 * i, 4, i < 15 ? "%02x:" : "%02x", md[i]);
    }
out:
    free(blob);
    return pk;
}

static json_t *ssh_json(const iam_obj *o, bool full, const char *encoding)
{
    json_t *k = json_pack("{s:s, s:s, s:O, s:f}", "UserName", o->owner, "SSHPublicKeyId", o->name, "Status",
                          json_object_get(o->doc, "Status"), "UploadDate", o->created);
    if (full) {
        json_object_set(k, "Fingerprint", json_object_get(o->doc, "Fingerprint"));
        json_object_set(k, "SSHPublicKeyBody",
                        json_object_get(o->doc, encoding && !strcmp(encoding, "PEM") ? "Pem" : "Body"));
    }
    return k;
}

static int need_ssh(nb_call *c, sqlite3 *h, iam_obj *o)
{
    char user[129];
    if (user_or_caller(c, h, user, false)) return -1;
    const char *id = nb_in_str(c, "SSHPublicKeyId");
    if (!id || !iam_obj_get(h, IAM_ACCOUNT(c), "ssh", id, o) || strcasecmp(o->owner, user) != 0) {
        if (id && o->doc) json_decref(o->doc);
        return iam_no_such(c, "The Public Key with id %s cannot be found.", id ? id : "");
    }
    return 0;
}

static int upload_ssh_tx(nb_call *c, sqlite3 *h)
{
    char user[129], fp[48];
    const char *body = nb_in_str(c, "SSHPublicKeyBody"), *why;
    if (user_or_caller(c, h, user, false)) return -1;
    EVP_PKEY *pk = body ? ssh_key_parse(body, fp, &why) : NULL;
    if (!pk)
        return !body || !strcmp(why, "UnrecognizedPublicKeyEncoding")
                   ? nb_call_error(c, 400, "UnrecognizedPublicKeyEncoding",
                                   "Unable to parse the public key. Please ensure it is in ssh-rsa or PEM format.")
                   : nb_call_error(c, 400, "InvalidPublicKey",
                                   "The public key is not valid: only RSA keys of at least 2048 bits are accepted.");
    char *pem = NULL;
    BIO *b = BIO_new(BIO_s_mem());
    if (b && PEM_write_bio_PUBKEY(b, pk)) {
        char *data;
        long n = BIO_get_mem_data(b, &data);
        pem = strndup(data, (size_t)n);
    }
    BIO_free(b);
    EVP_PKEY_free(pk);
    int rc = 0;
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'ssh' AND owner = ? "
                        "AND json_extract(doc, '$.Fingerprint') = ?",
                  "sss", IAM_ACCOUNT(c), user, fp))
        rc = nb_call_error(c, 400, "DuplicateSSHPublicKey", "The public key is a duplicate of an existing one.");
    else if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'ssh' AND owner = ?", "ss",
                       IAM_ACCOUNT(c), user) >= MAX_SSH_PER_USER)
        rc = iam_limit(c, "Cannot exceed quota for PublicKeysPerUser: %d", MAX_SSH_PER_USER);
    if (rc) {
        free(pem);
        return rc;
    }
    iam_obj o;
    memset(&o, 0, sizeof(o));
    nb_identity_new_id("APKA", o.name);
    snprintf(o.owner, sizeof(o.owner), "%s", user);
    o.created = nb_clock_now_f();
    o.doc = json_pack("{s:s, s:s, s:s, s:s}", "Body", body, "Pem", pem ? pem : body, "Fingerprint", fp, "Status",
                      "Active");
    free(pem);
    rc = iam_obj_put(h, IAM_ACCOUNT(c), "ssh", &o) ? iam_db_error(c, h) : 0;
    if (!rc) c->output = json_pack("{s:o}", "SSHPublicKey", ssh_json(&o, true, "SSH"));
    json_decref(o.doc);
    return rc;
}
int iam_upload_ssh_public_key(nb_call *c) { return iam_write(c, upload_ssh_tx); }

static int get_ssh_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    memset(&o, 0, sizeof(o));
    if (iam_check_enum(c, nb_in_str(c, "Encoding"), "encoding", "SSH|PEM") || need_ssh(c, h, &o)) return -1;
    c->output = json_pack("{s:o}", "SSHPublicKey", ssh_json(&o, true, nb_in_str(c, "Encoding")));
    json_decref(o.doc);
    return 0;
}
int iam_get_ssh_public_key(nb_call *c) { return iam_read(c, get_ssh_tx); }

/* SSH keys and signing certificates: the caller's or the named user's, oldest first. */
static int list_owned(nb_call *c, sqlite3 *h, const char *kind, const char *member, json_t *(*fn)(const iam_obj *))
{
    iam_page pg;
    char user[129];
    if (iam_page_in(c, &pg) || user_or_caller(c, h, user, !strcmp(kind, "signing-certificate"))) return -1;
    json_t *all = json_array();
    if (user[0]) {
        json_t *names = iam_obj_names(h, IAM_ACCOUNT(c), kind, user), *n;
        size_t i;
        json_array_foreach(names, i, n)
        {
            iam_obj o;
            if (!iam_obj_get(h, IAM_ACCOUNT(c), kind, json_string_value(n), &o)) continue;
            json_array_append_new(all, fn(&o));
            json_decref(o.doc);
        }
        json_decref(names);
    }
    c->output = json_object();
    page_slice(c, &pg, all, member);
    json_decref(all);
    return 0;
}

static json_t *ssh_meta(const iam_obj *o) { return ssh_json(o, false, NULL); }
static int list_ssh_tx(nb_call *c, sqlite3 *h) { return list_owned(c, h, "ssh", "SSHPublicKeys", ssh_meta); }
int iam_list_ssh_public_keys(nb_call *c) { return iam_read(c, list_ssh_tx); }

static int check_status(nb_call *c, const char *s)
{
    if (!s || (strcmp(s, "Active") && strcmp(s, "Inactive")))
        return iam_validation(c, "1 validation error detected: Value '%s' at 'status' failed to satisfy constraint: "
                                 "Member must satisfy enum value set: [Active, Inactive]",
                              s ? s : "");
    return 0;
}

static int update_ssh_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    memset(&o, 0, sizeof(o));
    const char *status = nb_in_str(c, "Status");
    if (check_status(c, status) || need_ssh(c, h, &o)) return -1;
    json_object_set_new(o.doc, "Status", json_string(status));
    int rc = iam_obj_put(h, IAM_ACCOUNT(c), "ssh", &o) ? iam_db_error(c, h) : 0;
    json_decref(o.doc);
    return rc;
}
int iam_update_ssh_public_key(nb_call *c) { return iam_write(c, update_ssh_tx); }

static int delete_ssh_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    memset(&o, 0, sizeof(o));
    if (need_ssh(c, h, &o)) return -1;
    json_decref(o.doc);
    return iam_obj_delete(h, IAM_ACCOUNT(c), "ssh", o.name) ? iam_db_error(c, h) : 0;
}
int iam_delete_ssh_public_key(nb_call *c) { return iam_write(c, delete_ssh_tx); }

/* ---- signing certificates ---- */

static json_t *signing_json(const iam_obj *o)
{
    return json_pack("{s:s, s:s, s:O, s:O, s:f}", "UserName", o->owner, "CertificateId", o->name, "CertificateBody",
                     json_object_get(o->doc, "CertificateBody"), "Status", json_object_get(o->doc, "Status"),
                     "UploadDate", o->created);
}

static int upload_signing_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    const char *body = nb_in_str(c, "CertificateBody");
    if (user_or_caller(c, h, user, false)) return -1;
    X509 *x = body ? pem_cert(body) : NULL;
    if (!x) return nb_call_error(c, 400, "MalformedCertificate", "Unable to parse certificate. Please ensure the certificate is in PEM format.");
    unsigned char md[20];
    unsigned ml = 0;
    X509_digest(x, EVP_sha1(), md, &ml);
    double expires = asn1_time_epoch(X509_get0_notAfter(x));
    X509_free(x);
    if (expires && expires < nb_clock_now_f())
        return nb_call_error(c, 400, "InvalidCertificate", "The certificate has expired.");
    /* AWS names a signing certificate by an id derived from it; a second upload of the same
     * certificate is a duplicate. */
    iam_obj o;
    memset(&o, 0, sizeof(o));
    for (int i = 0; i < 32; i++) { /* the SHA-1 of the certificate in base32: 32 characters */
        int bit = i * 5, byte = bit / 8, sh = bit % 8;
        unsigned v = ((unsigned)md[byte] << 8) | (byte + 1 < 20 ? md[byte + 1] : 0);
        o.name[i] = B32[(v >> (11 - sh)) & 31];
    }
    o.name[32] = 0;
    iam_obj old;
    if (iam_obj_get(h, IAM_ACCOUNT(c), "signing-certificate", o.name, &old)) {
        json_decref(old.doc);
        return nb_call_error(c, 409, "DuplicateCertificate", "The certificate is a duplicate of an existing one.");
    }
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'signing-certificate' AND owner = ?",
                  "ss", IAM_ACCOUNT(c), user) >= MAX_SIGNING_PER_USER)
        return iam_limit(c, "Cannot exceed quota for SigningCertificatesPerUser: %d", MAX_SIGNING_PER_USER);
    snprintf(o.owner, sizeof(o.owner), "%s", user);
    o.created = nb_clock_now_f();
    o.doc = json_pack("{s:s, s:s}", "CertificateBody", body, "Status", "Active");
    int rc = iam_obj_put(h, IAM_ACCOUNT(c), "signing-certificate", &o) ? iam_db_error(c, h) : 0;
    if (!rc) c->output = json_pack("{s:o}", "Certificate", signing_json(&o));
    json_decref(o.doc);
    return rc;
}
int iam_upload_signing_certificate(nb_call *c) { return iam_write(c, upload_signing_tx); }

static int list_signing_tx(nb_call *c, sqlite3 *h)
{
    return list_owned(c, h, "signing-certificate", "Certificates", signing_json);
}
int iam_list_signing_certificates(nb_call *c) { return iam_read(c, list_signing_tx); }

static int need_signing(nb_call *c, sqlite3 *h, iam_obj *o)
{
    char user[129];
    if (user_or_caller(c, h, user, false)) return -1;
    const char *id = nb_in_str(c, "CertificateId");
    if (!id || !iam_obj_get(h, IAM_ACCOUNT(c), "signing-certificate", id, o)) {
        return iam_no_such(c, "The Certificate with id %s cannot be found.", id ? id : "");
    }
    if (strcasecmp(o->owner, user) != 0) {
        json_decref(o->doc);
        return iam_no_such(c, "The Certificate with id %s cannot be found.", id);
    }
    return 0;
}

static int update_signing_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    const char *status = nb_in_str(c, "Status");
    if (check_status(c, status) || need_signing(c, h, &o)) return -1;
    json_object_set_new(o.doc, "Status", json_string(status));
    int rc = iam_obj_put(h, IAM_ACCOUNT(c), "signing-certificate", &o) ? iam_db_error(c, h) : 0;
    json_decref(o.doc);
    return rc;
}
int iam_update_signing_certificate(nb_call *c) { return iam_write(c, update_signing_tx); }

static int delete_signing_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    if (need_signing(c, h, &o)) return -1;
    json_decref(o.doc);
    return iam_obj_delete(h, IAM_ACCOUNT(c), "signing-certificate", o.name) ? iam_db_error(c, h) : 0;
}
int iam_delete_signing_certificate(nb_call *c) { return iam_write(c, delete_signing_tx); }

/* ---- service-specific credentials (CodeCommit HTTPS Git, Keyspaces) ----
 * Stored and listed as AWS does; no Nimbus service accepts them yet. */

#define SSC_PER_SERVICE 2

static bool ssc_service_ok(const char *s)
{
    return s && (!strcmp(s, "codecommit.amazonaws.com") || !strcmp(s, "cassandra.amazonaws.com"));
}

static json_t *ssc_json(const iam_obj *o, bool with_password)
{
    json_t *j = json_pack("{s:s, s:O, s:O, s:s, s:O, s:f}", "UserName", o->owner, "ServiceName",
                          json_object_get(o->doc, "ServiceName"), "ServiceUserName",
                          json_object_get(o->doc, "ServiceUserName"), "ServiceSpecificCredentialId", o->name,
                          "Status", json_object_get(o->doc, "Status"), "CreateDate", o->created);
    if (with_password) json_object_set(j, "ServicePassword", json_object_get(o->doc, "ServicePassword"));
    return j;
}

static void ssc_password(char out[45])
{
    nb_identity_new_secret(out); /* 40 characters of the base64 alphabet, + 4 more */
    nb_identity_new_secret(out + 4);
    out[44] = 0;
}

static int create_ssc_tx(nb_call *c, sqlite3 *h)
{
    char user[129], pw[45];
    const char *svc = nb_in_str(c, "ServiceName");
    if (user_or_caller(c, h, user, false)) return -1;
    if (!ssc_service_ok(svc))
        return nb_call_error(c, 404, "NotSupportedService", "No such service %s is supported for Service-Specific Credentials",
                             svc ? svc : "");
    if (nb_iq_int(h, 0, "SELECT COUNT(*) FROM objects WHERE account = ? AND kind = 'ssc' AND owner = ? "
                        "AND json_extract(doc, '$.ServiceName') = ?",
                  "sss", IAM_ACCOUNT(c), user, svc) >= SSC_PER_SERVICE)
        return iam_limit(c, "Cannot exceed quota for ServiceSpecificCredentialsPerUserPerService: %d", SSC_PER_SERVICE);
    iam_obj o;
    memset(&o, 0, sizeof(o));
    nb_identity_new_id("ACCA", o.name);
    snprintf(o.owner, sizeof(o.owner), "%s", user);
    o.created = nb_clock_now_f();
    ssc_password(pw);
    char *svc_user = nb_arena_printf(c->arena, "%s-at-%s", user, IAM_ACCOUNT(c));
    o.doc = json_pack("{s:s, s:s, s:s, s:s}", "ServiceName", svc, "ServiceUserName", svc_user, "ServicePassword", pw,
                      "Status", "Active");
    int rc = iam_obj_put(h, IAM_ACCOUNT(c), "ssc", &o) ? iam_db_error(c, h) : 0;
    if (!rc) c->output = json_pack("{s:o}", "ServiceSpecificCredential", ssc_json(&o, true));
    json_decref(o.doc);
    return rc;
}
int iam_create_service_specific_credential(nb_call *c) { return iam_write(c, create_ssc_tx); }

static int need_ssc(nb_call *c, sqlite3 *h, iam_obj *o)
{
    char user[129];
    if (user_or_caller(c, h, user, false)) return -1;
    const char *id = nb_in_str(c, "ServiceSpecificCredentialId");
    if (!id || !iam_obj_get(h, IAM_ACCOUNT(c), "ssc", id, o))
        return iam_no_such(c, "No such credential %s exists", id ? id : "");
    if (strcasecmp(o->owner, user) != 0) {
        json_decref(o->doc);
        return iam_no_such(c, "No such credential %s exists", id);
    }
    return 0;
}

static int list_ssc_tx(nb_call *c, sqlite3 *h)
{
    char user[129];
    const char *svc = nb_in_str(c, "ServiceName");
    if (user_or_caller(c, h, user, true)) return -1;
    if (svc && !ssc_service_ok(svc))
        return nb_call_error(c, 404, "NotSupportedService", "No such service %s is supported for Service-Specific Credentials",
                             svc);
    json_t *list = json_array();
    json_t *names = user[0] ? iam_obj_names(h, IAM_ACCOUNT(c), "ssc", user) : json_array(), *n;
    size_t i;
    json_array_foreach(names, i, n)
    {
        iam_obj o;
        if (!iam_obj_get(h, IAM_ACCOUNT(c), "ssc", json_string_value(n), &o)) continue;
        if (!svc || !strcmp(svc, json_string_value(json_object_get(o.doc, "ServiceName"))))
            json_array_append_new(list, ssc_json(&o, false));
        json_decref(o.doc);
    }
    json_decref(names);
    c->output = json_pack("{s:o}", "ServiceSpecificCredentials", list);
    return 0;
}
int iam_list_service_specific_credentials(nb_call *c) { return iam_read(c, list_ssc_tx); }

static int edit_ssc_tx(nb_call *c, sqlite3 *h)
{
    iam_obj o;
    const char *status = nb_in_str(c, "Status");
    bool update = !strcmp(c->op_name, "UpdateServiceSpecificCredential");
    bool reset = !strcmp(c->op_name, "ResetServiceSpecificCredential");
    if ((update && check_status(c, status)) || need_ssc(c, h, &o)) return -1;
    int rc;
    if (!update && !reset) {
        rc = iam_obj_delete(h, IAM_ACCOUNT(c), "ssc", o.name) ? iam_db_error(c, h) : 0;
    } else {
        if (update) json_object_set_new(o.doc, "Status", json_string(status));
        if (reset) {
            char pw[45];
            ssc_password(pw);
            json_object_set_new(o.doc, "ServicePassword", json_string(pw));
        }
        rc = iam_obj_put(h, IAM_ACCOUNT(c), "ssc", &o) ? iam_db_error(c, h) : 0;
        if (!rc && reset) c->output = json_pack("{s:o}", "ServiceSpecificCredential", ssc_json(&o, true));
    }
    json_decref(o.doc);
    return rc;
}
int iam_reset_service_specific_credential(nb_call *c) { return iam_write(c, edit_ssc_tx); }
int iam_update_service_specific_credential(nb_call *c) { return iam_write(c, edit_ssc_tx); }
int iam_delete_service_specific_credential(nb_call *c) { return iam_write(c, edit_ssc_tx); }
