/* test_config.c: the option table: defaults, environment, flags, precedence, bounds, help. */
#include <stdio.h>
#include <stdlib.h>

#include "core/config.h"
#include "unit.h"

static const char *const envs[] = {"NIMBUS_HOST",      "NIMBUS_PORT",     "NIMBUS_DATA_DIR",
                                   "NIMBUS_LOG_LEVEL", "NIMBUS_TLS_PORT", "NIMBUS_TLS_CERT",
                                   "NIMBUS_TLS_KEY",   "NIMBUS_REGION",   "NIMBUS_CLOCK_RATE",
                                   "NIMBUS_LOOPS",     "NIMBUS_WORKERS",  "NIMBUS_S3_DOMAIN",
                                   "NIMBUS_ACCESS_LOG"};

static void clear_env(void)
{
    for (size_t i = 0; i < NB_ARRAY_LEN(envs); i++)
        unsetenv(envs[i]);
}

static int load(nb_config *c, char **err, int argc, ...)
{
    char *argv[32];
    va_list ap;
    va_start(ap, argc);
    for (int i = 0; i < argc; i++)
        argv[i] = va_arg(ap, char *);
    va_end(ap);
    return nb_config_load(c, argc, argv, err);
}

static void test_defaults(void)
{
    clear_env();
    nb_config c;
    char *err = NULL;
    CHECK(load(&c, &err, 0) == 0);
    CHECK(err == NULL);
    CHECK_STR(c.host, "127.0.0.1");
    CHECK(c.port == 4566);
    CHECK_STR(c.data_dir, "./data");
    CHECK_STR(c.log_level, "info");
    CHECK(c.tls_port == 0);
    CHECK_STR(c.tls_cert, "");
    CHECK_STR(c.tls_key, "");
    CHECK_STR(c.region, "us-east-1");
    CHECK(c.clock_rate == 1.0);
    CHECK(c.loops == 0);
    CHECK(c.workers == 0);
    CHECK_STR(c.s3_domain, "s3.localhost");
    CHECK(c.access_log == true);
}

static void test_flags(void)
{
    clear_env();
    nb_config c;
    char *err = NULL;
    CHECK(load(&c, &err, 8, "--host", "0.0.0.0", "--port=8080", "--data-dir", "/tmp/x",
               "--clock-rate", "8640", "--no-access-log") == 0);
    CHECK_STR(c.host, "0.0.0.0");
    CHECK(c.port == 8080);
    CHECK_STR(c.data_dir, "/tmp/x");
    CHECK(c.clock_rate == 8640.0);
    CHECK(!c.access_log);
    CHECK(load(&c, &err, 3, "--access-log", "false", "--loops=3") == 0);
    CHECK(!c.access_log && c.loops == 3);
    CHECK(load(&c, &err, 3, "--access-log", "--workers", "7") == 0);
    CHECK(c.access_log && c.workers == 7);
    CHECK(load(&c, &err, 1, "--access-log=off") == 0);
    CHECK(!c.access_log);
    CHECK(load(&c, &err, 2, "--log-level", "debug") == 0);
    CHECK_STR(c.log_level, "debug");
}

static void test_env_and_precedence(void)
{
    clear_env();
    setenv("NIMBUS_DATA_DIR", "/env/dir", 1);
    setenv("NIMBUS_PORT", "5000", 1);
    setenv("NIMBUS_REGION", "eu-west-1", 1);
    setenv("NIMBUS_ACCESS_LOG", "0", 1);
    nb_config c;
    char *err = NULL;
    CHECK(load(&c, &err, 2, "--port", "6000") == 0);
    CHECK_STR(c.data_dir, "/env/dir"); /* env over default */
    CHECK(c.port == 6000);             /* flag over env */
    CHECK_STR(c.region, "eu-west-1");
    CHECK(!c.access_log);
    setenv("NIMBUS_PORT", "notanumber", 1);
    CHECK(load(&c, &err, 0) == -1);
    CHECK(err && strstr(err, "NIMBUS_PORT"));
    free(err);
    clear_env();
}

static void test_errors(void)
{
    clear_env();
    nb_config c;
    char *err = NULL;
    CHECK(load(&c, &err, 2, "--bogus", "1") == -1);
    CHECK(err && strstr(err, "--bogus"));
    free(err);
    err = NULL;
    CHECK(load(&c, &err, 2, "--port", "70000") == -1);
    CHECK(err && strstr(err, "--port"));
    free(err);
    err = NULL;
    CHECK(load(&c, &err, 2, "--port", "12x") == -1);
    free(err);
    err = NULL;
    CHECK(load(&c, &err, 2, "--clock-rate", "0") == -1);
    CHECK(err && strstr(err, "--clock-rate"));
    free(err);
    err = NULL;
    CHECK(load(&c, &err, 2, "--clock-rate", "-2") == -1);
    free(err);
    err = NULL;
    CHECK(load(&c, &err, 1, "--port") == -1);
    CHECK(err && strstr(err, "needs a value"));
    free(err);
    err = NULL;
    CHECK(load(&c, &err, 2, "--log-level", "loud") == -1);
    free(err);
    err = NULL;
    CHECK(load(&c, &err, 1, "serve") == -1);
    CHECK(err && strstr(err, "serve"));
    free(err);
    err = NULL;
    char big[2000];
    memset(big, 'a', sizeof(big) - 1);
    big[sizeof(big) - 1] = 0;
    CHECK(load(&c, &err, 2, "--data-dir", big) == -1);
    CHECK(err && strstr(err, "too long"));
    free(err);
    err = NULL;
    CHECK(load(&c, &err, 1, "--no-port") == -1); /* --no- only for booleans */
    free(err);
    CHECK(load(&c, NULL, 1, "--bogus") == -1); /* err may be NULL */
}

static void test_help(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    nb_config_print_help("nimbus serve", f);
    fclose(f);
    const char *must[] = {"--host",       "--port",          "--data-dir", "--log-level",
                          "--tls-port",   "--tls-cert",      "--tls-key",  "--region",
                          "--clock-rate", "--loops",         "--workers",  "--s3-domain",
                          "--access-log", "NIMBUS_DATA_DIR", "4566",       "us-east-1"};
    for (size_t i = 0; i < NB_ARRAY_LEN(must); i++)
        CHECK(text && strstr(text, must[i]));
    free(text);
}

int main(void)
{
    test_defaults();
    test_flags();
    test_env_and_precedence();
    test_errors();
    test_help();
    UNIT_DONE();
}
