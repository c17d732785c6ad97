/* config.c: the one table of options; flags, NIMBUS_* environment and --help all come from it. */
#include "core/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>

enum opt_type { OPT_STR, OPT_INT, OPT_DOUBLE, OPT_BOOL, OPT_LEVEL };

/* One row per option. The environment variable is derived from the name (NIMBUS_ + upper
 * case, '-' -> '_') so the two can never drift apart. For strings, max is the field size. */
struct opt {
    const char *name;
    enum opt_type type;
    size_t off, size;
    const char *def; /* default, as text: parsed by the same code as flags */
    double min, max; /* numbers: inclusive bounds; min_open: min itself is refused */
    bool min_open;
    const char *metavar;
    const char *help;
};

#define F(field) offsetof(nb_config, field), sizeof(((nb_config *)0)->field)

static const struct opt opts[] = {
    {"host", OPT_STR, F(host), "127.0.0.1", 0, 0, false, "ADDR",
     "address to listen on (not loopback: no well-known test/test keys)"},
    {"port", OPT_INT, F(port), "4566", 0, 65535, false, "PORT",
     "HTTP port for every AWS API and /_nimbus/ (0 = pick a free port)"},
    {"data-dir", OPT_STR, F(data_dir), "./data", 0, 0, false, "DIR",
     "where metadata, object data and the region clock are kept"},
    {"log-level", OPT_LEVEL, F(log_level), "info", 0, 0, false, "LEVEL",
     "debug, info, warn or error"},
    {"tls-port", OPT_INT, F(tls_port), "0", 0, 65535, false, "PORT", "HTTPS port (0 = off)"},
    {"tls-cert", OPT_STR, F(tls_cert), "", 0, 0, false, "FILE", "TLS certificate chain (PEM)"},
    {"tls-key", OPT_STR, F(tls_key), "", 0, 0, false, "FILE", "TLS private key (PEM)"},
    {"region", OPT_STR, F(region), "us-east-1", 0, 0, false, "NAME", "the region this server is"},
    {"clock-rate", OPT_DOUBLE, F(clock_rate), "1.0", 0, 1e9, true, "N",
     "region time passes N times faster than real time (8640: a day in ten seconds)"},
    {"loops", OPT_INT, F(loops), "0", 0, 1024, false, "N", "event loop threads (0 = one per core)"},
    {"workers", OPT_INT, F(workers), "0", 0, 4096, false, "N",
     "worker threads for blocking work (0 = 64)"},
    {"s3-domain", OPT_STR, F(s3_domain), "s3.localhost", 0, 0, false, "DOMAIN",
     "suffix of virtual-hosted bucket names (<bucket>.DOMAIN)"},
    {"access-log", OPT_BOOL, F(access_log), "true", 0, 0, false, "BOOL",
     "log one line per request (--no-access-log to turn off)"},
    {"strict-region", OPT_BOOL, F(strict_region), "false", 0, 0, false, "BOOL",
     "refuse signatures scoped to another region, as AWS's regional endpoints do (off: "
     "clients configured for any region are served by this one)"},
    {"website-port", OPT_INT, F(website_port), "0", 0, 65535, false, "PORT",
     "S3 static website port: the Host header names the bucket (0 = off)"},
    {"s3-log-interval", OPT_INT, F(s3_log_interval), "300", 1, 86400, false, "SECONDS",
     "region seconds between deliveries of S3 server access logs to their target buckets"},
};

#undef F

static char *errf(const char *fmt, ...) NB_PRINTF(1, 2);
static char *errf(const char *fmt, ...)
{
    nb_buf b;
    nb_buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    nb_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    return nb_buf_steal(&b, NULL);
}

static void set_err(char **err, char *msg)
{
    if (err)
        *err = msg;
    else
        free(msg);
}

static bool parse_bool(const char *v, bool *out)
{
    static const char *yes[] = {"1", "true", "yes", "on"}, *no[] = {"0", "false", "no", "off"};
    for (size_t i = 0; i < NB_ARRAY_LEN(yes); i++) {
        if (strcasecmp(v, yes[i]) == 0) return (*out = true), true;
        if (strcasecmp(v, no[i]) == 0) return (*out = false), true;
    }
    return false;
}

/* Parse text v into option o of c. `from` names the source for the message ("--port",
 * "NIMBUS_PORT"). Returns 0 or -1 with *err. */
static int set_opt(nb_config *c, const struct opt *o, const char *v, const char *from, char **err)
{
    void *field = (char *)c + o->off;
    switch (o->type) {
    case OPT_STR:
    case OPT_LEVEL:
        if (strlen(v) >= o->size) {
            set_err(err, errf("%s: value too long (at most %zu bytes)", from, o->size - 1));
            return -1;
        }
        if (o->type == OPT_LEVEL && nb_log_level_parse(v) < 0) {
            set_err(err, errf("%s: unknown log level '%s' (debug, info, warn, error)", from, v));
            return -1;
        }
        memcpy(field, v, strlen(v) + 1);
        return 0;
    case OPT_INT: {
        char *end;
        errno = 0;
        long n = strtol(v, &end, 10);
        if (!*v || *end || errno || n < o->min || n > o->max) {
            set_err(err,
                    errf("%s: '%s' is not an integer in [%.0f, %.0f]", from, v, o->min, o->max));
            return -1;
        }
        *(int *)field = (int)n;
        return 0;
    }
    case OPT_DOUBLE: {
        char *end;
        errno = 0;
        double d = strtod(v, &end);
        if (!*v || *end || errno || !isfinite(d) || d < o->min || (o->min_open && d == o->min) ||
            d > o->max) {
            set_err(err, errf("%s: '%s' is not a number %s %g and <= %g", from, v,
                              o->min_open ? ">" : ">=", o->min, o->max));
            return -1;
        }
        *(double *)field = d;
        return 0;
    }
    case OPT_BOOL:
        if (!parse_bool(v, (bool *)field)) {
            set_err(err, errf("%s: '%s' is not a boolean (true/false)", from, v));
            return -1;
        }
        return 0;
    }
    return -1;
}

static void env_name(const struct opt *o, char *out, size_t n)
{
    size_t i = (size_t)snprintf(out, n, "NIMBUS_");
    for (const char *p = o->name; *p && i + 1 < n; p++)
        out[i++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
    out[i] = 0;
}

static const struct opt *find_opt(const char *name, size_t len)
{
    for (size_t i = 0; i < NB_ARRAY_LEN(opts); i++)
        if (strlen(opts[i].name) == len && memcmp(opts[i].name, name, len) == 0) return &opts[i];
    return NULL;
}

/* argv here holds only the options: argv[0] is the first flag, not a program name. Accepted
 * forms: --name value, --name=value, and for booleans --name, --no-name, --name=BOOL.
 * "-h"/"--help" print the table to stdout and return 1. */
int nb_config_load(nb_config *c, int argc, char **argv, char **err)
{
    if (err) *err = NULL;
    memset(c, 0, sizeof(*c));
    for (size_t i = 0; i < NB_ARRAY_LEN(opts); i++) {
        char what[80];
        snprintf(what, sizeof(what), "default of --%s", opts[i].name);
        NB_ASSERT(set_opt(c, &opts[i], opts[i].def, what, NULL) == 0);
    }
    for (size_t i = 0; i < NB_ARRAY_LEN(opts); i++) {
        char name[64];
        env_name(&opts[i], name, sizeof(name));
        const char *v = getenv(name);
        if (v && set_opt(c, &opts[i], v, name, err) < 0) return -1;
    }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            nb_config_print_help("nimbus serve", stdout);
            return 1;
        }
        if (strncmp(a, "--", 2) != 0 || !a[2]) {
            set_err(err, errf("unexpected argument '%s' (options look like --name value)", a));
            return -1;
        }
        const char *name = a + 2, *eq = strchr(name, '=');
        size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
        const struct opt *o = find_opt(name, nlen);
        char from[96];
        snprintf(from, sizeof(from), "--%.*s", (int)(nlen < 64 ? nlen : 64), name);
        if (!o && !eq && strncmp(name, "no-", 3) == 0) {
            const struct opt *neg = find_opt(name + 3, nlen - 3);
            if (neg && neg->type == OPT_BOOL) {
                *(bool *)((char *)c + neg->off) = false;
                continue;
            }
        }
        if (!o) {
            set_err(err, errf("unknown option '%s' (see --help)", from));
            return -1;
        }
        const char *v;
        if (eq) {
            v = eq + 1;
        } else if (o->type == OPT_BOOL) {
            /* A bare boolean flag means true; take the next word only if it is a boolean, so
             * that "--access-log --port 1" keeps working. */
            bool b;
            if (i + 1 < argc && parse_bool(argv[i + 1], &b))
                v = argv[++i];
            else
                v = "true";
        } else if (i + 1 < argc) {
            v = argv[++i];
        } else {
            set_err(err, errf("%s needs a value", from));
            return -1;
        }
        if (set_opt(c, o, v, from, err) < 0) return -1;
    }
    return 0;
}

void nb_config_print_help(const char *prog, void *file)
{
    FILE *f = file ? file : stdout;
    fprintf(f,
            "usage: %s [options]\n\noptions (flags override NIMBUS_* environment variables, "
            "which override defaults):\n",
            prog ? prog : "nimbus");
    for (size_t i = 0; i < NB_ARRAY_LEN(opts); i++) {
        const struct opt *o = &opts[i];
        char flag[64], env[64];
        snprintf(flag, sizeof(flag), "--%s %s", o->name, o->metavar);
        env_name(o, env, sizeof(env));
        fprintf(f, "  %-24s %s\n  %-24s [env %s; default: %s]\n", flag, o->help, "", env,
                *o->def ? o->def : "(none)");
    }
    fprintf(f, "  %-24s %s\n", "-h, --help", "print this help");
}
