/* saml.c: verification of SAML 2.0 responses for AssumeRoleWithSAML (see saml.h).
 *
 * What is trusted: only a signature by a key of the provider's metadata (IDPSSODescriptor
 * KeyDescriptor certificates; the KeyInfo a response carries is ignored), over either the
 * Response or its one Assertion, whose Reference points at that signed element's own ID (so a
 * signature cannot be moved onto other content: "signature wrapping"). The claims are read
 * from that Assertion only. Documents with a DOCTYPE are refused before parsing (no entities,
 * no external loads). */
#include "svc/sts/saml.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/c14n.h>
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlIO.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "core/nb.h"
#include "proto/proto.h"
#include "proto/xmllib.h"

#define NS_P "urn:oasis:names:tc:SAML:2.0:protocol"
#define NS_A "urn:oasis:names:tc:SAML:2.0:assertion"
#define NS_MD "urn:oasis:names:tc:SAML:2.0:metadata"
#define NS_DS "http://www.w3.org/2000/09/xmldsig#"
#define EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define EXC_C14N_C "http://www.w3.org/2001/10/xml-exc-c14n#WithComments"
#define ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define ATTR "https://aws.amazon.com/SAML/Attributes/"

/* ---- small tree helpers (plain struct walking: no libxml2 calls) ---- */

static bool is(const xmlNode *n, const char *ns, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && n->ns && n->ns->href &&
           !strcmp((const char *)n->ns->href, ns) && !strcmp((const char *)n->name, name);
}

static xmlNode *child(const xmlNode *n, const char *ns, const char *name)
{
    for (xmlNode *k = n ? n->children : NULL; k; k = k->next)
        if (is(k, ns, name)) return k;
    return NULL;
}

static size_t count(const xmlNode *n, const char *ns, const char *name)
{
    size_t c = 0;
    for (xmlNode *k = n ? n->children : NULL; k; k = k->next)
        c += is(k, ns, name);
    return c;
}

/* An attribute without namespace, into out ("" when absent). */
static void attr(const xmlNode *n, const char *name, char *out, size_t outn)
{
    out[0] = 0;
    for (xmlAttr *a = n ? n->properties : NULL; a; a = a->next)
        if (!a->ns && !strcmp((const char *)a->name, name)) {
            xmlChar *v = xmlNodeListGetString(n->doc, a->children, 1);
            snprintf(out, outn, "%s", v ? (const char *)v : "");
            xmlFree(v);
            return;
        }
}

static void text(const xmlNode *n, char *out, size_t outn)
{
    out[0] = 0;
    if (!n) return;
    xmlChar *v = xmlNodeGetContent(n);
    snprintf(out, outn, "%s", v ? (const char *)v : "");
    xmlFree(v);
}

/* Element text, whitespace dropped, base64-decoded into a malloc'd buffer; NULL if invalid. */
static unsigned char *b64_text(const xmlNode *n, size_t *len)
{
    xmlChar *v = n ? xmlNodeGetContent(n) : NULL;
    if (!v) return NULL;
    size_t vn = strlen((const char *)v), k = 0;
    char *clean = malloc(vn + 1);
    unsigned char *raw = malloc(vn + 4);
    for (size_t i = 0; clean && i < vn; i++)
        if (!isspace((unsigned char)v[i])) clean[k++] = (char)v[i];
    xmlFree(v);
    ssize_t r = clean && raw && k ? nb_base64_decode(clean, k, raw) : -1;
    free(clean);
    if (r <= 0) {
        free(raw);
        return NULL;
    }
    *len = (size_t)r;
    return raw;
}

/* ---- canonicalization ---- */

struct vis {
    const xmlNode *apex;    /* the subtree canonicalized */
    const xmlNode *exclude; /* the enveloped Signature, or NULL */
};

/* Nodes of apex's subtree, less the excluded one's. Namespace nodes (an xmlNs, whose type
 * field sits where a node's does) belong to the element given as parent. */
static int visible(void *ud, xmlNodePtr node, xmlNodePtr parent)
{
    const struct vis *v = ud;
    const xmlNode *p = node && node->type != XML_NAMESPACE_DECL ? node : parent;
    for (; p; p = p->parent) {
        if (p == v->exclude) return 0;
        if (p == v->apex) return 1;
    }
    return 0;
}

static int out_write(void *ctx, const char *buf, int len)
{
    nb_buf_append((nb_buf *)ctx, buf, (size_t)len);
    return len;
}

static int out_close(void *ctx)
{
    (void)ctx;
    return 0;
}

/* C14N 1.0 (exclusive, or inclusive when !exclusive) of apex's subtree without exclude, into
 * b. prefixes: the exclusive InclusiveNamespaces PrefixList (space-separated), or "". */
static bool c14n(xmlDoc *doc, const xmlNode *apex, const xmlNode *exclude, bool exclusive,
                 bool comments, const char *prefixes, nb_buf *b)
{
    struct vis v = {apex, exclude};
    char list[512];
    snprintf(list, sizeof(list), "%s", prefixes);
    xmlChar *incl[32];
    size_t ni = 0;
    for (char *save = NULL, *t = strtok_r(list, " \t\r\n", &save); t && ni < 31;
         t = strtok_r(NULL, " \t\r\n", &save))
        incl[ni++] = (xmlChar *)t;
    incl[ni] = NULL;
    xmlOutputBufferPtr out = xmlOutputBufferCreateIO(out_write, out_close, b, NULL);
    if (!out) return false;
    int rc = xmlC14NExecute(doc, visible, &v, exclusive ? XML_C14N_EXCLUSIVE_1_0 : XML_C14N_1_0,
                            exclusive && ni ? incl : NULL, comments, out);
    xmlOutputBufferClose(out);
    return rc >= 0 && !b->oom;
}

/* The PrefixList of an ec:InclusiveNamespaces child of a Transform/CanonicalizationMethod. */
static void prefix_list(const xmlNode *n, char *out, size_t outn)
{
    out[0] = 0;
    xmlNode *in = child(n, EXC_C14N, "InclusiveNamespaces");
    if (in) attr(in, "PrefixList", out, outn);
}

/* ---- the IdP's keys ---- */

static EVP_PKEY *cert_key(const xmlNode *x509cert)
{
    size_t len;
    unsigned char *der = b64_text(x509cert, &len);
    if (!der) return NULL;
    /* PEM around the DER (PEM_read_bio_X509 is the reader Nimbus already loads) */
    nb_buf pem;
    nb_buf_init(&pem);
    char *b64 = malloc(nb_base64_encoded_len(len) + 1);
    if (b64) {
        nb_base64_encode(der, len, b64);
        nb_buf_puts(&pem, "-----BEGIN CERTIFICATE-----\n");
        for (size_t i = 0, n = strlen(b64); i < n; i += 64) {
            nb_buf_append(&pem, b64 + i, n - i < 64 ? n - i : 64);
            nb_buf_putc(&pem, '\n');
        }
        nb_buf_puts(&pem, "-----END CERTIFICATE-----\n");
    }
    free(b64);
    free(der);
    EVP_PKEY *k = NULL;
    if (pem.data && !pem.oom) {
        BIO *bio = BIO_new_mem_buf(pem.data, (int)pem.len);
        X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
        EVP_PKEY *pk = x ? X509_get_pubkey(x) : NULL;
        if (pk && EVP_PKEY_get_base_id(pk) == EVP_PKEY_RSA)
            k = pk;
        else
            EVP_PKEY_free(pk);
        X509_free(x);
        BIO_free(bio);
        ERR_clear_error(); /* a bad certificate leaves errors queued on this thread */
    }
    nb_buf_free(&pem);
    return k;
}

/* Signing certificates of the metadata's IdP, as public keys (at most max), and its entityID. */
static size_t idp_keys(const char *metadata, EVP_PKEY **keys, size_t max, char *entity_id,
                       size_t idn)
{
    size_t n = 0;
    entity_id[0] = 0;
    if (!metadata || strstr(metadata, "<!DOCTYPE")) return 0;
    xmlDoc *doc = xmlReadMemory(metadata, (int)strlen(metadata), NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOBLANKS | XML_PARSE_NOERROR |
                                    XML_PARSE_NOWARNING);
    xmlNode *root = xmlDocGetRootElement(doc);
    xmlNode *idp =
        is(root, NS_MD, "EntityDescriptor") ? child(root, NS_MD, "IDPSSODescriptor") : NULL;
    if (idp) attr(root, "entityID", entity_id, idn);
    for (xmlNode *kd = idp ? idp->children : NULL; kd && n < max; kd = kd->next) {
        if (!is(kd, NS_MD, "KeyDescriptor")) continue;
        char use[32];
        attr(kd, "use", use, sizeof(use));
        if (use[0] && strcmp(use, "signing") != 0) continue;
        xmlNode *x509 = child(child(kd, NS_DS, "KeyInfo"), NS_DS, "X509Data");
        for (xmlNode *c = x509 ? x509->children : NULL; c && n < max; c = c->next)
            if (is(c, NS_DS, "X509Certificate")) {
                EVP_PKEY *k = cert_key(c);
                if (k) keys[n++] = k;
            }
    }
    xmlFreeDoc(doc);
    return n;
}

/* ---- the signature ---- */

static const EVP_MD *digest_md(const char *alg)
{
    if (!strcmp(alg, "http://www.w3.org/2001/04/xmlenc#sha256")) return EVP_sha256();
    if (!strcmp(alg, "http://www.w3.org/2000/09/xmldsig#sha1")) return EVP_sha1();
    return NULL;
}

static const EVP_MD *signature_md(const char *alg)
{
    if (!strcmp(alg, "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")) return EVP_sha256();
    if (!strcmp(alg, "http://www.w3.org/2000/09/xmldsig#rsa-sha1")) return EVP_sha1();
    return NULL;
}

/* Verify the enveloped signature sig of element signed. NULL when it holds, else why not. */
static const char *verify(xmlDoc *doc, const xmlNode *signed_el, const xmlNode *sig,
                          EVP_PKEY **keys, size_t nkeys)
{
    char alg[256], uri[600], id[512], pl[512];
    xmlNode *si = child(sig, NS_DS, "SignedInfo");
    xmlNode *cm = child(si, NS_DS, "CanonicalizationMethod"),
            *sm = child(si, NS_DS, "SignatureMethod");
    if (!si || !cm || !sm || count(si, NS_DS, "Reference") != 1) return "malformed Signature";
    attr(cm, "Algorithm", alg, sizeof(alg));
    bool si_comments = !strcmp(alg, EXC_C14N_C);
    if (strcmp(alg, EXC_C14N) != 0 && !si_comments) return "unsupported CanonicalizationMethod";
    char si_pl[512];
    prefix_list(cm, si_pl, sizeof(si_pl));
    attr(sm, "Algorithm", alg, sizeof(alg));
    const EVP_MD *smd = signature_md(alg);
    if (!smd) return "unsupported SignatureMethod";

    xmlNode *ref = child(si, NS_DS, "Reference");
    attr(ref, "URI", uri, sizeof(uri));
    attr(signed_el, "ID", id, sizeof(id));
    if (uri[0] != '#' || !id[0] || strcmp(uri + 1, id) != 0)
        return "the Reference does not name the signed element";
    /* Transforms: the enveloped signature, then exclusive C14N (nothing else). */
    bool enveloped = false, exc = false, comments = false;
    pl[0] = 0;
    xmlNode *tr = child(ref, NS_DS, "Transforms");
    for (xmlNode *t = tr ? tr->children : NULL; t; t = t->next) {
        if (!is(t, NS_DS, "Transform")) continue;
        attr(t, "Algorithm", alg, sizeof(alg));
        if (!strcmp(alg, ENVELOPED))
            enveloped = true;
        else if (!strcmp(alg, EXC_C14N) || !strcmp(alg, EXC_C14N_C)) {
            exc = true;
            comments = !strcmp(alg, EXC_C14N_C);
            prefix_list(t, pl, sizeof(pl));
        } else
            return "unsupported Transform";
    }
    if (!enveloped) return "the signature is not enveloped";
    /* Without a C14N transform, XMLDSig turns the node-set into octets with inclusive C14N. */
    attr(child(ref, NS_DS, "DigestMethod"), "Algorithm", alg, sizeof(alg));
    const EVP_MD *dmd = digest_md(alg);
    if (!dmd) return "unsupported DigestMethod";
    size_t dlen = 0, slen = 0;
    unsigned char *want = b64_text(child(ref, NS_DS, "DigestValue"), &dlen);
    unsigned char *sigv = b64_text(child(sig, NS_DS, "SignatureValue"), &slen);
    const char *why = NULL;
    nb_buf body, info;
    nb_buf_init(&body);
    nb_buf_init(&info);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdl = 0;
    if (!want || !sigv) {
        why = "malformed DigestValue or SignatureValue";
    } else if (!c14n(doc, signed_el, sig, exc, comments, pl, &body) ||
               !EVP_Digest(body.data ? body.data : "", body.len, md, &mdl, dmd, NULL)) {
        why = "cannot canonicalize the signed element";
    } else if (mdl != dlen || CRYPTO_memcmp(md, want, mdl) != 0) {
        why = "digest mismatch";
    } else if (!c14n(doc, si, NULL, true, si_comments, si_pl, &info)) {
        why = "cannot canonicalize SignedInfo";
    } else {
        why = "signature mismatch";
        for (size_t i = 0; i < nkeys && why; i++) {
            EVP_MD_CTX *ctx = EVP_MD_CTX_new();
            if (ctx && EVP_DigestVerifyInit(ctx, NULL, smd, NULL, keys[i]) == 1 &&
                EVP_DigestVerify(ctx, sigv, slen, (const unsigned char *)info.data, info.len) == 1)
                why = NULL;
            EVP_MD_CTX_free(ctx);
        }
        ERR_clear_error();
    }
    nb_buf_free(&body);
    nb_buf_free(&info);
    free(want);
    free(sigv);
    return why;
}

/* ---- the assertion ---- */

static bool parse_time(const xmlNode *n, const char *name, double *t)
{
    char v[64];
    attr(n, name, v, sizeof(v));
    return v[0] && nb_time_parse(v, strlen(v), t) == 0;
}

static int fail(const char **code, const char *c, char *msg, size_t msgn, const char *m)
{
    *code = c;
    snprintf(msg, msgn, "%s", m);
    return -1;
}

/* Audience and validity: -1 (with the error) when the assertion is not for AWS now. */
static int check_conditions(const xmlNode *as, double now, nb_saml *out, const char **code,
                            char *msg, size_t msgn)
{
    xmlNode *cond = child(as, NS_A, "Conditions");
    double t;
    if (cond && parse_time(cond, "NotBefore", &t) && now < t)
        return fail(code, "InvalidIdentityToken", msg, msgn,
                    "The SAML assertion is not yet valid (NotBefore).");
    if (cond && parse_time(cond, "NotOnOrAfter", &t) && now >= t)
        return fail(code, "ExpiredTokenException", msg, msgn,
                    "The SAML assertion has expired (NotOnOrAfter).");
    bool aws = false;
    for (xmlNode *ar = cond ? cond->children : NULL; ar; ar = ar->next) {
        if (!is(ar, NS_A, "AudienceRestriction")) continue;
        bool here = false;
        for (xmlNode *a = ar->children; a; a = a->next) {
            if (!is(a, NS_A, "Audience")) continue;
            char v[512];
            text(a, v, sizeof(v));
            size_t vl = strlen(v);
            if (!strcmp(v, "https://signin.aws.amazon.com/saml") ||
                !strcmp(v, "urn:amazon:webservices") ||
                (!strncmp(v, "https://", 8) && vl > 30 &&
                 !strcmp(v + vl - 30, ".signin.aws.amazon.com/saml")))
                here = true;
        }
        if (!here)
            return fail(code, "InvalidIdentityToken", msg, msgn,
                        "The SAML assertion's audience is not https://signin.aws.amazon.com/saml.");
        aws = true;
    }
    if (!aws)
        return fail(code, "InvalidIdentityToken", msg, msgn,
                    "The SAML assertion has no AudienceRestriction for "
                    "https://signin.aws.amazon.com/saml.");
    /* Subject: NameID and a bearer confirmation still valid. */
    xmlNode *subj = child(as, NS_A, "Subject");
    xmlNode *nid = child(subj, NS_A, "NameID");
    if (!nid)
        return fail(code, "InvalidIdentityToken", msg, msgn,
                    "The SAML assertion has no Subject NameID.");
    text(nid, out->subject, sizeof(out->subject));
    attr(nid, "Format", out->subject_format, sizeof(out->subject_format));
    bool confirmed = false;
    for (xmlNode *sc = subj->children; sc; sc = sc->next) {
        if (!is(sc, NS_A, "SubjectConfirmation")) continue;
        char method[128];
        attr(sc, "Method", method, sizeof(method));
        if (strcmp(method, "urn:oasis:names:tc:SAML:2.0:cm:bearer") != 0) continue;
        xmlNode *d = child(sc, NS_A, "SubjectConfirmationData");
        if (d && parse_time(d, "NotOnOrAfter", &t) && now >= t)
            return fail(code, "ExpiredTokenException", msg, msgn,
                        "The SAML assertion has expired (SubjectConfirmationData NotOnOrAfter).");
        if (d && parse_time(d, "NotBefore", &t) && now < t) continue;
        if (d) attr(d, "Recipient", out->recipient, sizeof(out->recipient));
        confirmed = true;
    }
    if (!confirmed)
        return fail(code, "InvalidIdentityToken", msg, msgn,
                    "The SAML assertion has no bearer SubjectConfirmation.");
    xmlNode *authn = child(as, NS_A, "AuthnStatement");
    if (authn && parse_time(authn, "SessionNotOnOrAfter", &t)) out->session_not_on_or_after = t;
    return 0;
}

static void read_attributes(const xmlNode *as, nb_saml *out)
{
    for (xmlNode *st = as->children; st; st = st->next) {
        if (!is(st, NS_A, "AttributeStatement")) continue;
        for (xmlNode *a = st->children; a; a = a->next) {
            if (!is(a, NS_A, "Attribute")) continue;
            char name[512];
            attr(a, "Name", name, sizeof(name));
            if (strncmp(name, ATTR, strlen(ATTR)) != 0) continue;
            const char *key = name + strlen(ATTR);
            for (xmlNode *v = a->children; v; v = v->next) {
                if (!is(v, NS_A, "AttributeValue")) continue;
                char val[2048];
                text(v, val, sizeof(val));
                if (!strcmp(key, "Role")) {
                    /* "role-arn,provider-arn", spaces around the comma tolerated */
                    json_array_append_new(out->roles, json_string(val));
                } else if (!strcmp(key, "RoleSessionName")) {
                    snprintf(out->session_name, sizeof(out->session_name), "%s", val);
                } else if (!strcmp(key, "SourceIdentity")) {
                    snprintf(out->source_identity, sizeof(out->source_identity), "%s", val);
                } else if (!strncmp(key, "PrincipalTag:", 13) && key[13]) {
                    json_object_set_new(out->tags, key + 13, json_string(val));
                } else if (!strcmp(key, "TransitiveTagKeys")) {
                    json_array_append_new(out->transitive, json_string(val));
                }
            }
        }
    }
}

int nb_saml_check(const char *b64, const char *metadata, double now, nb_saml *out,
                  const char **code, char *msg, size_t msgn)
{
    memset(out, 0, sizeof(*out));
    out->roles = json_array();
    out->tags = json_object();
    out->transitive = json_array();
    size_t n = b64 ? strlen(b64) : 0;
    unsigned char *raw = malloc(n + 4);
    size_t k = 0;
    char *clean = malloc(n + 1);
    for (size_t i = 0; clean && i < n; i++)
        if (!isspace((unsigned char)b64[i])) clean[k++] = b64[i];
    ssize_t rn = raw && clean && k ? nb_base64_decode(clean, k, raw) : -1;
    free(clean);
    if (rn <= 0) {
        free(raw);
        return fail(code, "InvalidIdentityToken", msg, msgn,
                    "The SAML assertion is not valid base64.");
    }
    raw[rn] = 0;
    if (memmem(raw, (size_t)rn, "<!DOCTYPE", 9) || memmem(raw, (size_t)rn, "<!ENTITY", 8)) {
        free(raw);
        return fail(code, "InvalidIdentityToken", msg, msgn,
                    "The SAML response must not have a DOCTYPE.");
    }
    EVP_PKEY *keys[8];
    char entity_id[1024];
    size_t nkeys = idp_keys(metadata, keys, 8, entity_id, sizeof(entity_id));
    /* NOERROR/NOWARNING: libxml2 would print every complaint about a caller's input on stderr */
    xmlDoc *doc = xmlReadMemory((const char *)raw, (int)rn, NULL, NULL,
                                XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    free(raw);
    int rc = -1;
    xmlNode *resp = xmlDocGetRootElement(doc);
    if (doc && (doc->intSubset || doc->extSubset)) { /* a DTD the byte check missed (UTF-16 ...) */
        fail(code, "InvalidIdentityToken", msg, msgn, "The SAML response must not have a DOCTYPE.");
        goto out;
    }
    if (!doc || !is(resp, NS_P, "Response")) {
        fail(code, "InvalidIdentityToken", msg, msgn,
             "The SAML assertion is not a SAML 2.0 Response.");
        goto out;
    }
    if (count(resp, NS_A, "EncryptedAssertion")) {
        fail(code, "NotImplemented", msg, msgn,
             "Encrypted SAML assertions are not implemented by Nimbus yet.");
        goto out;
    }
    if (count(resp, NS_A, "Assertion") != 1) {
        fail(code, "InvalidIdentityToken", msg, msgn,
             "The SAML response must hold exactly one Assertion.");
        goto out;
    }
    xmlNode *as = child(resp, NS_A, "Assertion");
    xmlNode *status = child(child(resp, NS_P, "Status"), NS_P, "StatusCode");
    char sc[128];
    attr(status, "Value", sc, sizeof(sc));
    if (status && strcmp(sc, "urn:oasis:names:tc:SAML:2.0:status:Success") != 0) {
        fail(code, "InvalidIdentityToken", msg, msgn, "The SAML response's status is not Success.");
        goto out;
    }
    if (!nkeys) {
        fail(code, "InvalidIdentityToken", msg, msgn,
             "The SAML provider's metadata has no RSA signing certificate to verify the response "
             "with.");
        goto out;
    }
    /* The signature: on the Response (covering the assertion) or on the Assertion. */
    const char *why = "Response signature invalid";
    bool any = false;
    if (count(resp, NS_DS, "Signature") == 1) {
        any = true;
        why = verify(doc, resp, child(resp, NS_DS, "Signature"), keys, nkeys);
    }
    if ((!any || why) && count(as, NS_DS, "Signature") == 1) {
        any = true;
        why = verify(doc, as, child(as, NS_DS, "Signature"), keys, nkeys);
    }
    if (!any || why) {
        /* AWS's words only; why it failed goes to the debug log */
        nb_debug("sts: SAML response refused: %s", any ? why : "no signature");
        fail(code, "InvalidIdentityToken", msg, msgn, "Response signature invalid");
        goto out;
    }
    text(child(as, NS_A, "Issuer"), out->issuer, sizeof(out->issuer));
    if (!out->issuer[0]) text(child(resp, NS_A, "Issuer"), out->issuer, sizeof(out->issuer));
    if (entity_id[0] && strcmp(out->issuer, entity_id) != 0) {
        fail(code, "InvalidIdentityToken", msg, msgn, "Issuer not present in specified provider");
        goto out;
    }
    if (check_conditions(as, now, out, code, msg, msgn)) goto out;
    read_attributes(as, out);
    rc = 0;
out:
    for (size_t i = 0; i < nkeys; i++)
        EVP_PKEY_free(keys[i]);
    xmlFreeDoc(doc);
    return rc;
}

void nb_saml_free(nb_saml *s)
{
    json_decref(s->roles);
    json_decref(s->tags);
    json_decref(s->transitive);
    s->roles = s->tags = s->transitive = NULL;
}
