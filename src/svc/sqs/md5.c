/* md5.c: the digests SQS answers with (MD5OfMessageBody, MD5OfMessageAttributes,
 * MD5OfMessageSystemAttributes) computed exactly as AWS does, so SDKs that verify them
 * (boto3, the Java and Go SDKs) accept our answers; plus the checks SendMessage makes on
 * message attributes and bodies. */
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

#include "core/hash.h"
#include "svc/sqs/sqs_internal.h"

void nb_sqs_md5_hex(const void *p, size_t n, char out[33])
{
    unsigned char md[16];
    nb_md5(p, n, md);
    nb_hex(md, 16, out);
}

static void put_len(nb_md5_ctx *c, size_t n)
{
    unsigned char b[4] = {(unsigned char)(n >> 24), (unsigned char)(n >> 16), (unsigned char)(n >> 8),
                          (unsigned char)n};
    nb_md5_update(c, b, 4);
}

static void put_bytes(nb_md5_ctx *c, const void *p, size_t n)
{
    put_len(c, n);
    nb_md5_update(c, p, n);
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Base64 text of a blob member -> bytes (malloc'd). */
static unsigned char *unb64(const char *s, size_t *n)
{
    size_t l = strlen(s);
    unsigned char *out = malloc(l * 3 / 4 + 4);
    if (!out) return NULL;
    ssize_t m = nb_base64_decode(s, l, out);
    if (m < 0) {
        free(out);
        return NULL;
    }
    *n = (size_t)m;
    return out;
}

/* AWS's encoding, attribute by attribute in name order: name, data type (each as a 4-byte
 * big-endian length and the bytes), a transport byte (1 string, 2 binary, 3 string list,
 * 4 binary list), then the value(s) length-prefixed. */
int nb_sqs_md5_attrs(json_t *attrs, char out[33])
{
    out[0] = 0;
    size_t n = json_object_size(attrs);
    if (!n) return 0;
    const char **names = malloc(n * sizeof(*names));
    if (!names) return -1;
    size_t k = 0;
    const char *key;
    json_t *v;
    json_object_foreach(attrs, key, v) names[k++] = key;
    qsort(names, n, sizeof(*names), cmp_names);
    nb_md5_ctx c;
    nb_md5_init(&c);
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++) {
        v = json_object_get(attrs, names[i]);
        const char *type = json_string_value(json_object_get(v, "DataType"));
        if (!type) type = "";
        put_bytes(&c, names[i], strlen(names[i]));
        put_bytes(&c, type, strlen(type));
        json_t *sv = json_object_get(v, "StringValue"), *bv = json_object_get(v, "BinaryValue");
        json_t *sl = json_object_get(v, "StringListValues"), *bl = json_object_get(v, "BinaryListValues");
        unsigned char t;
        if (json_is_string(sv)) {
            t = 1;
            nb_md5_update(&c, &t, 1);
            put_bytes(&c, json_string_value(sv), json_string_length(sv));
        } else if (json_is_string(bv)) {
            size_t bn;
            unsigned char *b = unb64(json_string_value(bv), &bn);
            if (!b) {
                rc = -1;
                break;
            }
            t = 2;
            nb_md5_update(&c, &t, 1);
            put_bytes(&c, b, bn);
            free(b);
        } else if (json_array_size(sl)) {
            t = 3;
            nb_md5_update(&c, &t, 1);
            size_t j;
            json_t *e;
            json_array_foreach(sl, j, e) put_bytes(&c, json_string_value(e) ? json_string_value(e) : "",
                                                   json_string_length(e));
        } else if (json_array_size(bl)) {
            t = 4;
            nb_md5_update(&c, &t, 1);
            size_t j;
            json_t *e;
            json_array_foreach(bl, j, e)
            {
                size_t bn = 0;
                unsigned char *b = json_is_string(e) ? unb64(json_string_value(e), &bn) : NULL;
                if (!b) {
                    rc = -1;
                    break;
                }
                put_bytes(&c, b, bn);
                free(b);
            }
        } else {
            rc = -1;
        }
    }
    free(names);
    unsigned char md[16];
    nb_md5_final(&c, md);
    if (rc == 0) nb_hex(md, 16, out);
    return rc;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 256) return false;
    if (s[0] == '.' || s[n - 1] == '.' || strstr(s, "..")) return false;
    if (!strncasecmp(s, "AWS.", 4) || !strncasecmp(s, "Amazon.", 7)) return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return false;
    return true;
}

/* A Number attribute as AWS accepts it: a decimal (sign, digits, fraction, exponent; no
 * "inf", "nan", hex or spaces, which strtod would take) of at most 38 significant digits and
 * a magnitude from 10^-128 to 10^+126. */
bool nb_sqs_number_valid(const char *s)
{
    const char *p = s;
    if (*p == '+' || *p == '-') p++;
    int digits = 0, sig = 0, trailing = 0;
    long int_digits = 0, frac_pos = 0, first_int = -1, first_frac = -1;
    bool dot = false;
    for (; (*p >= '0' && *p <= '9') || (*p == '.' && !dot); p++) {
        if (*p == '.') {
            dot = true;
            continue;
        }
        digits++;
        if (dot) frac_pos++;
        else int_digits++;
        if (*p != '0' && first_int < 0 && first_frac < 0) {
            if (dot) first_frac = frac_pos;
            else first_int = int_digits;
        }
        if (first_int >= 0 || first_frac >= 0) {
            sig++;
            trailing = *p == '0' ? trailing + 1 : 0;
        }
    }
    if (!digits) return false;
    long exp = 0;
    if (*p == 'e' || *p == 'E') {
        p++;
        bool neg = *p == '-';
        if (*p == '+' || *p == '-') p++;
        if (*p < '0' || *p > '9') return false;
        for (; *p >= '0' && *p <= '9'; p++)
            if (exp < 100000) exp = exp * 10 + (*p - '0');
        if (neg) exp = -exp;
    }
    if (*p) return false;
    if (!sig) return true; /* zero */
    if (sig - trailing > 38) return false;
    /* decimal exponent of the leading significant digit */
    long lead = (first_int >= 0 ? int_digits - first_int : -first_frac) + exp;
    return lead >= -128 && lead <= 126;
}

int nb_sqs_attrs_validate(json_t *attrs, bool system, char *msg, size_t msgn)
{
    size_t n = json_object_size(attrs);
    if (n > 10) {
        snprintf(msg, msgn, "Number of message attributes [%zu] exceeds the allowed maximum [10].", n);
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach(attrs, key, v)
    {
        if (system) {
            if (strcmp(key, "AWSTraceHeader") != 0) {
                snprintf(msg, msgn, "Message system attribute name '%s' is invalid.", key);
                return -1;
            }
        } else if (!valid_name(key)) {
            snprintf(msg, msgn,
                     "Message (user) attribute name '%s' is invalid. Attribute names can contain only "
                     "A-Z, a-z, 0-9, underscore (_), hyphen (-) and period (.), must not start or end "
                     "with a period, must not contain consecutive periods and must not start with "
                     "'AWS.' or 'Amazon.'.",
                     key);
            return -1;
        }
        const char *type = json_string_value(json_object_get(v, "DataType"));
        json_t *sv = json_object_get(v, "StringValue"), *bv = json_object_get(v, "BinaryValue");
        if (!type || !*type) {
            snprintf(msg, msgn, "The message attribute '%s' must contain non-empty message attribute type.",
                     key);
            return -1;
        }
        bool is_bin = !strncmp(type, "Binary", 6), is_num = !strncmp(type, "Number", 6),
             is_str = !strncmp(type, "String", 6);
        const char *rest = type + 6;
        if ((!is_bin && !is_num && !is_str) || (*rest && *rest != '.') || (*rest == '.' && !rest[1]) ||
            strlen(type) > 256) {
            snprintf(msg, msgn,
                     "The type of message (user) attribute '%s' is invalid. You must use only the "
                     "following supported type prefixes: Binary, Number, String.",
                     key);
            return -1;
        }
        if (system && strcmp(type, "String") != 0) {
            snprintf(msg, msgn, "The message system attribute '%s' must use type 'String'.", key);
            return -1;
        }
        if (is_bin) {
            if (!json_is_string(bv) || !json_string_length(bv)) {
                snprintf(msg, msgn,
                         json_is_string(sv) ? "The message attribute '%s' with type 'Binary' must use field 'Binary'."
                                            : "The message attribute '%s' must contain non-empty message attribute value for message attribute type 'Binary'.",
                         key);
                return -1;
            }
        } else {
            if (!json_is_string(sv) || !json_string_length(sv)) {
                snprintf(msg, msgn,
                         json_is_string(bv) ? "The message attribute '%s' with type '%s' must use field 'String'."
                                            : "The message attribute '%s' must contain non-empty message attribute value for message attribute type '%s'.",
                         key, is_num ? "Number" : "String");
                return -1;
            }
            if (is_num) {
                if (!nb_sqs_number_valid(json_string_value(sv))) {
                    snprintf(msg, msgn, "Can't cast the value of message (user) attribute '%s' to a number.", key);
                    return -1;
                }
            }
            if (!nb_sqs_body_valid(json_string_value(sv), json_string_length(sv))) {
                snprintf(msg, msgn, "Invalid non-alphanumeric character was found in the message attribute '%s'.",
                         key);
                return -1;
            }
        }
    }
    return 0;
}

size_t nb_sqs_attrs_size(json_t *attrs)
{
    size_t total = 0;
    const char *key;
    json_t *v;
    json_object_foreach(attrs, key, v)
    {
        total += strlen(key);
        json_t *t = json_object_get(v, "DataType"), *sv = json_object_get(v, "StringValue"),
               *bv = json_object_get(v, "BinaryValue");
        total += json_string_length(t);
        if (json_is_string(sv)) total += json_string_length(sv);
        if (json_is_string(bv)) total += json_string_length(bv) * 3 / 4;
    }
    return total;
}

bool nb_sqs_body_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    while (p < end) {
        uint32_t cp;
        size_t len;
        if (*p < 0x80) {
            cp = *p;
            len = 1;
        } else if ((*p & 0xE0) == 0xC0) {
            cp = *p & 0x1F;
            len = 2;
        } else if ((*p & 0xF0) == 0xE0) {
            cp = *p & 0x0F;
            len = 3;
        } else if ((*p & 0xF8) == 0xF0) {
            cp = *p & 0x07;
            len = 4;
        } else {
            return false;
        }
        if ((size_t)(end - p) < len) return false;
        for (size_t i = 1; i < len; i++) {
            if ((p[i] & 0xC0) != 0x80) return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000)) return false;
        bool ok = cp == 0x9 || cp == 0xA || cp == 0xD || (cp >= 0x20 && cp <= 0xD7FF) ||
                  (cp >= 0xE000 && cp <= 0xFFFD) || (cp >= 0x10000 && cp <= 0x10FFFF);
        if (!ok) return false;
        p += len;
    }
    return true;
}
