/* runtime_cmd.c - `tfaas runtime`: one OpenWhisk action container. Serves
 * OpenWhisk's action-runtime protocol (POST /init, POST /run, port 8080) so
 * that an existing OpenWhisk (or Knative through its OpenWhisk runtime
 * support) schedules functions that run inside tfaas enclaves: option
 * parsing, start-up (scheduler, HTTP) and orderly shutdown on SIGTERM. */
#include "host/commands.h"
#include "host/gateway/action_doc.h"
#include "host/runtime/ow_http.h"
#include "host/runtime/ow_runtime.h"
#include "host/util/cmdline.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DRAIN_TIMEOUT_MS 10000  /* running activations get this long on SIGTERM */
#define KILL_GRACE_MS 2000u     /* past an activation's timeout, its enclave is killed */
#define DEFAULT_CONCURRENCY 4
#define DEFAULT_MAX_CONNECTIONS 256

typedef struct {
    const char *listen, *kind, *enclave, *enclave_v8;
    unsigned timeout_ms, memory_mb, concurrency, max_connections;
    int quiet;
} runtime_opts;

static void usage(FILE *f) {
    fputs("usage: tfaas runtime [OPTIONS]\n"
          "\n"
          "Serves OpenWhisk's action-runtime protocol, as the openwhisk/action-nodejs-*\n"
          "images do, with the function inside a tfaas enclave: POST /init once with\n"
          "{\"value\": {\"name\", \"main\", \"code\", \"binary\", \"env\"}}, then POST /run any\n"
          "number of times with {\"value\": PARAMS, \"namespace\", \"action_name\",\n"
          "\"activation_id\", \"deadline\", \"api_key\", ...}; every member but value becomes\n"
          "process.env.__OW_<MEMBER> for the activation. A zip action (\"binary\": true,\n"
          "code a base64 zip) runs on the V8 kinds, its archive checked as tfaas serve\n"
          "checks one. Each activation's logs go to\n"
          "stdout and stderr (as the function wrote them), followed by\n"
          "XXX_THE_END_OF_A_WHISK_ACTIVATION_XXX on both. See docs/api.md, \"OpenWhisk\n"
          "runtime mode\", for the answers and limits.\n"
          "\n"
          "  --listen ADDR:PORT   address to serve on (default 0.0.0.0:8080; port 0 picks one)\n"
          "  --kind KIND          the action's kind: js:duktape, js:v8 or nodejs:* (default\n"
          "                       nodejs:20, on V8)\n"
          "  --enclave PATH       tfaas-enclave executable (Duktape; default: next to tfaas)\n"
          "  --enclave-v8 PATH    tfaas-enclave-v8 executable (V8; default: next to tfaas)\n"
          "  --timeout MS         an activation's time limit, 100..300000 (default 60000);\n"
          "                       a run's deadline shortens it\n"
          "  --memory MB          an activation's memory limit, 128..512 (default 256)\n"
          "  --concurrency N      activations running at once (each in its own heap) when\n"
          "                       __OW_ALLOW_CONCURRENT=true, 1..500 (default 4); more wait\n"
          "                       (up to 1000, then 429). Without it /run takes one activation\n"
          "                       at a time and answers 503 to an overlapping one\n"
          "  --max-connections N  HTTP connections at once, each with a thread (default 256)\n"
          "  --quiet              do not print the listening line (on stderr, it would be part\n"
          "                       of the first activation's logs in OpenWhisk)\n"
          "  -h, --help           this text\n"
          "\n"
          "Environment: __OW_ALLOW_CONCURRENT=true allows concurrent activations;\n"
          "__OW_API_HOST is passed to the function as process.env.__OW_API_HOST.\n"
          "Prints `tfaas runtime: listening on http://ADDR:PORT` on stderr once ready.\n"
          "SIGINT/SIGTERM: running activations get up to 10 s, then the runtime exits 0.\n", f);
}

static int parse_args(int argc, char **argv, runtime_opts *o) {
    enum { O_LISTEN = 256, O_KIND, O_ENCLAVE, O_ENCLAVE_V8, O_TIMEOUT, O_MEMORY, O_CONCURRENCY, O_CONN, O_QUIET };
    static const struct option opts[] = {
        {"listen", required_argument, 0, O_LISTEN}, {"kind", required_argument, 0, O_KIND},
        {"enclave", required_argument, 0, O_ENCLAVE}, {"enclave-v8", required_argument, 0, O_ENCLAVE_V8},
        {"timeout", required_argument, 0, O_TIMEOUT}, {"memory", required_argument, 0, O_MEMORY},
        {"concurrency", required_argument, 0, O_CONCURRENCY}, {"max-connections", required_argument, 0, O_CONN},
        {"quiet", no_argument, 0, O_QUIET}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    *o = (runtime_opts){.listen = "0.0.0.0:8080", .kind = "nodejs:20", .timeout_ms = LIMIT_TIMEOUT_DEFAULT,
                        .memory_mb = LIMIT_MEMORY_DEFAULT, .concurrency = DEFAULT_CONCURRENCY,
                        .max_connections = DEFAULT_MAX_CONNECTIONS};
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_LISTEN: o->listen = optarg; break;
        case O_KIND: bad = !action_kind_supported(optarg); o->kind = optarg; break;
        case O_ENCLAVE: o->enclave = optarg; break;
        case O_ENCLAVE_V8: o->enclave_v8 = optarg; break;
        case O_TIMEOUT: bad = cmdline_uint(optarg, LIMIT_TIMEOUT_MIN, LIMIT_TIMEOUT_MAX, &o->timeout_ms); break;
        case O_MEMORY: bad = cmdline_uint(optarg, LIMIT_MEMORY_MIN, LIMIT_MEMORY_MAX, &o->memory_mb); break;
        case O_CONCURRENCY:
            bad = cmdline_uint(optarg, LIMIT_CONCURRENCY_MIN, LIMIT_CONCURRENCY_MAX, &o->concurrency);
            break;
        case O_CONN: bad = cmdline_uint(optarg, 1, 10000, &o->max_connections); break;
        case O_QUIET: o->quiet = 1; break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
        if (bad) {
            fprintf(stderr, "tfaas runtime: invalid value '%s' for --%s\n", optarg, opts[c - O_LISTEN].name);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tfaas runtime: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* The enclave binary of engine: given, or next to tfaas. need: it must
 * exist (the kind's engine); the other one is never started. */
static char *enclave_path(const runtime_opts *o, sched_engine engine, int need) {
    const char *given = engine == SCHED_ENGINE_V8 ? o->enclave_v8 : o->enclave;
    char *path = given ? strdup(given)
                       : cmdline_beside_self(engine == SCHED_ENGINE_V8 ? "tfaas-enclave-v8" : "tfaas-enclave");
    if (need && (!path || access(path, X_OK) != 0)) {
        fprintf(stderr, "tfaas runtime: enclave executable %s is missing or not executable (kind %s)\n",
                path ? path : "?", o->kind);
        free(path);
        return NULL;
    }
    return path;
}

int runtime_main(int argc, char **argv) {
    runtime_opts o;
    int pr = parse_args(argc, argv, &o);
    if (pr != 0) return pr > 0 ? 0 : 2;
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char host[256];
    if (cmdline_listen_opt("runtime", o.listen, &addr, &addr_len, host, sizeof host) < 0) return 2;
    sched_engine engine = action_kind_engine(o.kind);
    char *enclave = enclave_path(&o, SCHED_ENGINE_DUKTAPE, engine == SCHED_ENGINE_DUKTAPE),
         *enclave_v8 = enclave_path(&o, SCHED_ENGINE_V8, engine == SCHED_ENGINE_V8);
    if (!enclave || (engine == SCHED_ENGINE_V8 && !enclave_v8)) {
        free(enclave);
        free(enclave_v8);
        return 1;
    }
    const char *allow = getenv("__OW_ALLOW_CONCURRENT");
    int concurrent = allow && !strcmp(allow, "true");

    sigset_t sigs;
    cmdline_stop_signals(&sigs); /* taken by sigwaitinfo below; every thread inherits the mask */

    int rc = 1;
    char *err = NULL;
    ow_runtime *rt = NULL;
    ow_http *http = NULL;
    unsigned heaps = concurrent ? o.concurrency : 1;
    /* One function: its own enclave, never stopped while the container
     * lives (the container is OpenWhisk's unit of scaling). */
    scheduler_config sc = {.enclave_path = enclave, .enclave_v8_path = enclave_v8,
                           .workers = heaps, .idle_ttl_ms = 0, .max_queue = 1000,
                           .kill_grace_ms = KILL_GRACE_MS, .isolation = ISOLATION_FUNCTION};
    scheduler *sched = scheduler_create(&sc, &err);
    if (!sched) {
        fprintf(stderr, "tfaas runtime: cannot start the scheduler: %s\n", err ? err : "unknown error");
        goto out;
    }
    ow_runtime_config rc_cfg = {.sched = sched, .kind = o.kind, .engine = engine, .timeout_ms = o.timeout_ms,
                                .memory_bytes = (uint64_t)o.memory_mb << 20,
                                .max_log_bytes = (uint64_t)LIMIT_LOGS_DEFAULT << 20, .concurrency = heaps,
                                .allow_concurrent = concurrent, .api_host = getenv("__OW_API_HOST"),
                                .out = stdout, .err = stderr};
    if (!(rt = ow_runtime_new(&rc_cfg, &err))) {
        fprintf(stderr, "tfaas runtime: %s\n", err ? err : "cannot start");
        goto out;
    }
    if (!(http = ow_http_start(rt, (struct sockaddr *)&addr, o.max_connections, &err))) {
        fprintf(stderr, "tfaas runtime: %s on %s\n", err ? err : "cannot listen", o.listen);
        goto out;
    }
    if (!o.quiet) {
        int v6 = addr.ss_family == AF_INET6;
        fprintf(stderr, "tfaas runtime: kind %s, %s, listening on http://%s%s%s:%u\n", o.kind,
                concurrent ? "concurrent activations allowed" : "one activation at a time", v6 ? "[" : "", host,
                v6 ? "]" : "", ow_http_port(http));
    }
    int sig;
    while ((sig = sigwaitinfo(&sigs, NULL)) < 0) {}
    /* Bounded: nothing new starts, running activations get DRAIN_TIMEOUT_MS
     * and are then ended (their callers get 500), then connections close. */
    ow_runtime_shutdown(rt);
    scheduler_quiesce(sched);
    if (ow_runtime_drain(rt, DRAIN_TIMEOUT_MS))
        fprintf(stderr, "tfaas runtime: activations still running after %d ms; ending them\n", DRAIN_TIMEOUT_MS);
    rc = 0;
out:
    if (sched) scheduler_destroy(sched); /* completes what is left: no request waits any more */
    ow_http_stop(http);
    ow_runtime_free(rt);
    free(err);
    free(enclave);
    free(enclave_v8);
    return rc;
}
