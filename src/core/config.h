/* config.h: the one table of options. Each option is a flag (--name), an environment
 * variable (NIMBUS_NAME) and a field of nb_config; --help is printed from the table. */
#ifndef NB_CORE_CONFIG_H
#define NB_CORE_CONFIG_H

#include "core/nb.h"

typedef struct nb_config {
    char host[256];        /* --host, NIMBUS_HOST: "127.0.0.1" */
    int port;              /* --port, NIMBUS_PORT: 4566 */
    char data_dir[1024];   /* --data-dir, NIMBUS_DATA_DIR: "./data" */
    char log_level[16];    /* --log-level: debug|info|warn|error */
    int tls_port;          /* --tls-port: 0 = off */
    char tls_cert[1024];   /* --tls-cert PEM */
    char tls_key[1024];    /* --tls-key PEM */
    char region[64];       /* --region: "us-east-1" */
    double clock_rate;     /* --clock-rate: 1 = real time */
    int loops;             /* --loops: 0 = one per core */
    int workers;           /* --workers: 0 = 64 */
    char s3_domain[256];   /* --s3-domain: virtual-hosted bucket suffix, "s3.localhost.localstack.cloud" style */
    bool access_log;       /* --access-log: one line per request (default on) */
    bool strict_region;    /* --strict-region: refuse signatures scoped to another region */
    int website_port;      /* --website-port: S3 website endpoint, Host = bucket (0 = off) */
    int s3_log_interval;   /* --s3-log-interval: seconds between S3 access log deliveries */
} nb_config;

/* Defaults, then NIMBUS_* environment, then argv flags (argv[0] is the subcommand's first
 * argument list; unknown flags -> -1 with *err). Returns 0, 1 if --help was printed, -1. */
int nb_config_load(nb_config *c, int argc, char **argv, char **err);
void nb_config_print_help(const char *prog, void *file /* FILE* */);

#endif
