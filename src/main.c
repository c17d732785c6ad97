/* main.c: the nimbus binary: `nimbus serve` runs a region; `nimbus status` and
 * `nimbus clock ...` talk to a running one; `nimbus --version`. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/config.h"
#include "core/sched.h"
#include "http/http.h"
#include "iam/accounts.h"
#include "iam/creds.h"
#include "proto/dispatch.h"
#include "store/db.h"
#include "svc/service.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: nimbus <command> [options]\n"
            "\n"
            "commands:\n"
            "  serve                 run the region (options below)\n"
            "  status                show the health of a running server\n"
            "  clock                 show the region clock of a running server\n"
            "  clock advance <dur>   move the region clock forward (30d, 12h, 90m, 45s)\n"
            "  accounts list|create|show|delete  manage accounts (create [--id ID] [--name N]\n"
            "                        [--email E] [--access-key K --secret-key S]; delete <id>)\n"
            "  --version             print the version\n"
            "\n"
            "status and clock use --host/--port (or NIMBUS_HOST/NIMBUS_PORT) to find the server.\n"
            "\n");
    nb_config_print_help("nimbus serve", f);
}

static int mkdir_p(const char *path)
{
    char tmp[1100];
    snprintf(tmp, sizeof(tmp), "%s", path);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) < 0 && errno != EEXIST) return -1;
    return 0;
}

static bool host_is_loopback(const char *h)
{
    return strncmp(h, "127.", 4) == 0 || strcmp(h, "::1") == 0 || strcmp(h, "localhost") == 0;
}

static int start_services(const nb_config *cfg)
{
    for (size_t i = 0; i < nb_services_count(); i++) {
        const nb_service *s = nb_service_at(i);
        if (!s->init) continue;
        char dir[1200];
        snprintf(dir, sizeof(dir), "%s/%s", cfg->data_dir, s->name);
        if (mkdir_p(dir) < 0) {
            fprintf(stderr, "nimbus: cannot create %s: %s\n", dir, strerror(errno));
            return -1;
        }
        nb_svc_env env = {.data_dir = dir, .region = cfg->region, .config = cfg};
        char *err = NULL;
        if (s->init(&env, &err) < 0) {
            fprintf(stderr, "nimbus: service %s failed to start: %s\n", s->name,
                    err ? err : "unknown error");
            free(err);
            return -1;
        }
    }
    return 0;
}

static void stop_services(void)
{
    for (size_t i = nb_services_count(); i-- > 0;) {
        const nb_service *s = nb_service_at(i);
        if (s->shutdown) s->shutdown();
    }
}

static int serve(int argc, char **argv)
{
    static nb_config cfg;
    char *err = NULL;
    int rc = nb_config_load(&cfg, argc, argv, &err);
    if (rc == 1) return 0;
    if (rc < 0) {
        fprintf(stderr, "nimbus: %s\n", err ? err : "bad options");
        free(err);
        return 2;
    }
    int lvl = nb_log_level_parse(cfg.log_level);
    if (lvl < 0) {
        fprintf(stderr, "nimbus: unknown log level '%s' (debug, info, warn, error)\n", cfg.log_level);
        return 2;
    }
    nb_log_level = lvl;
    nb_http_access_log = cfg.access_log;

    /* Signals are taken by sigwait() in this thread only; block them before threads exist. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    if (mkdir_p(cfg.data_dir) < 0) {
        fprintf(stderr, "nimbus: cannot create data dir %s: %s\n", cfg.data_dir, strerror(errno));
        return 1;
    }
    if (nb_clock_init(cfg.data_dir, cfg.clock_rate) < 0) {
        fprintf(stderr, "nimbus: cannot initialise the region clock in %s\n", cfg.data_dir);
        return 1;
    }
    bool generated = false;
    if (nb_creds_init(cfg.data_dir, host_is_loopback(cfg.host), &generated, &err) < 0) {
        fprintf(stderr, "nimbus: %s\n", err ? err : "cannot set up credentials");
        free(err);
        return 1;
    }
    if (nb_sched_start(2) < 0) {
        fprintf(stderr, "nimbus: cannot start the scheduler\n");
        return 1;
    }
    nb_dispatch_init(&cfg);

    if (nb_http_init(cfg.loops, cfg.workers, NULL) < 0) {
        fprintf(stderr, "nimbus: cannot initialise the HTTP core\n");
        return 1;
    }
    nb_http_listener main_l = {.host = cfg.host, .port = cfg.port, .on_request = nb_dispatch_request};
    if (nb_http_listen(&main_l, &err) < 0) {
        fprintf(stderr, "nimbus: cannot listen on %s:%d: %s\n", cfg.host, cfg.port,
                err ? err : strerror(errno));
        return 1;
    }
    nb_http_listener tls_l = {.host = cfg.host, .port = cfg.tls_port, .tls = true,
                              .tls_cert = cfg.tls_cert, .tls_key = cfg.tls_key,
                              .on_request = nb_dispatch_request};
    if (cfg.tls_port > 0) {
        if (!cfg.tls_cert[0] || !cfg.tls_key[0]) {
            fprintf(stderr, "nimbus: --tls-port needs --tls-cert and --tls-key\n");
            return 2;
        }
        if (nb_http_listen(&tls_l, &err) < 0) {
            fprintf(stderr, "nimbus: cannot listen for TLS on %s:%d: %s\n", cfg.host,
                    cfg.tls_port, err ? err : strerror(errno));
            return 1;
        }
    }
    nb_http_listener web_l = {.host = cfg.host, .port = cfg.website_port,
                              .on_request = nb_dispatch_website};
    if (cfg.website_port > 0 && nb_http_listen(&web_l, &err) < 0) {
        fprintf(stderr, "nimbus: cannot listen for S3 websites on %s:%d: %s\n", cfg.host,
                cfg.website_port, err ? err : strerror(errno));
        return 1;
    }
    if (nb_http_start() < 0) {
        fprintf(stderr, "nimbus: cannot start the HTTP loops\n");
        return 1;
    }

    const nb_cred *root = nb_creds_root();
    const char *h = strchr(cfg.host, ':') ? "[%s]" : "%s";
    char host[300];
    snprintf(host, sizeof(host), h, cfg.host);
    char tls[400] = "";
    if (cfg.tls_port > 0) snprintf(tls, sizeof(tls), " and https://%s:%d", host, tls_l.port);
    if (generated || !host_is_loopback(cfg.host))
        fprintf(stderr,
                "nimbus %s serving http://%s:%d%s region %s data %s; root credentials of account "
                "%s: access key %s secret key %s (stored in %s/iam/root-credentials%s)\n",
                NB_VERSION, host, main_l.port, tls, cfg.region, cfg.data_dir, root->who.account,
                root->access_key, generated ? root->secret : "(see file)", cfg.data_dir,
                generated ? ", shown once" : "");
    else
        fprintf(stderr,
                "nimbus %s serving http://%s:%d%s region %s data %s; authenticate with access "
                "key test, secret key test (root of account %s)\n",
                NB_VERSION, host, main_l.port, tls, cfg.region, cfg.data_dir, root->who.account);

    /* Services open their state after the listeners are up: the server answers its first
     * request (health) within milliseconds of exec, and service requests that arrive
     * meanwhile are parked and resumed once everything is open. */
    if (start_services(&cfg) < 0) {
        nb_http_shutdown(1000);
        return 1;
    }
    nb_dispatch_ready();
    nb_debug("services ready after %.1f ms", nb_uptime() * 1000);
    /* Start-up read through this thread's own database connections and allocated on its way;
     * this thread only waits for a signal from now on: give that memory back. */
    nb_db_release_readers(NULL);
    nb_malloc_trim();

    int sig = 0;
    sigwait(&set, &sig);
    nb_info("received %s: stopping (finishing in-flight requests)", sig == SIGINT ? "SIGINT" : "SIGTERM");
    nb_http_shutdown(15000);
    nb_sched_stop();
    stop_services();
    nb_info("stopped");
    return 0;
}

/* Client side: talk to a running server's admin surface. */
static int admin_call(int argc, char **argv, const char *method, const char *path, const char *body)
{
    static nb_config cfg;
    char *err = NULL;
    if (nb_config_load(&cfg, argc, argv, &err) < 0) {
        fprintf(stderr, "nimbus: %s\n", err ? err : "bad options");
        free(err);
        return 2;
    }
    char url[512];
    snprintf(url, sizeof(url), strchr(cfg.host, ':') ? "http://[%s]:%d%s" : "http://%s:%d%s",
             strcmp(cfg.host, "0.0.0.0") == 0 ? "127.0.0.1" : cfg.host, cfg.port, path);
    nb_header hdr = {"Content-Type", 12, "application/json", 16};
    nb_http_request_spec spec = {.method = method, .url = url, .headers = body ? &hdr : NULL,
                                 .nheaders = body ? 1 : 0, .body = body,
                                 .body_len = body ? strlen(body) : 0, .timeout_ms = 10000};
    nb_http_response *resp = NULL;
    if (nb_http_fetch_sync(&spec, &resp) < 0 || !resp) {
        fprintf(stderr, "nimbus: no server answering at %s\n", url);
        return 1;
    }
    int rc = resp->status == 200 ? 0 : 1;
    json_error_t je;
    json_t *doc = json_loadb(resp->body, resp->body_len, 0, &je);
    if (doc) {
        char *s = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        printf("%s\n", s ? s : "");
        free(s);
        json_decref(doc);
    } else {
        fwrite(resp->body, 1, resp->body_len, stdout);
    }
    nb_http_response_free(resp);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("nimbus %s\n", NB_VERSION);
        return 0;
    }
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "serve")) return serve(argc - 2, argv + 2);
    if (!strcmp(cmd, "status")) return admin_call(argc - 2, argv + 2, "GET", "/_nimbus/health", NULL);
    if (!strcmp(cmd, "accounts")) return nb_accounts_cli(argc - 2, argv + 2, admin_call);
    if (!strcmp(cmd, "clock")) {
        if (argc >= 4 && !strcmp(argv[2], "advance")) {
            int64_t us;
            if (nb_duration_parse(argv[3], &us) < 0) {
                fprintf(stderr, "nimbus: bad duration '%s' (examples: 30d, 12h, 90m, 45s)\n", argv[3]);
                return 2;
            }
            char body[128];
            snprintf(body, sizeof(body), "{\"advance\":\"%s\"}", argv[3]);
            return admin_call(argc - 4, argv + 4, "POST", "/_nimbus/clock", body);
        }
        return admin_call(argc - 2, argv + 2, "GET", "/_nimbus/clock", NULL);
    }
    fprintf(stderr, "nimbus: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
