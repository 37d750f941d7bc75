/* serve.c - `tfaas serve`: option parsing, start-up (store, guest and whisk.system
 * namespaces, scheduler, HTTP) and orderly shutdown on SIGINT/SIGTERM. */
#include "host/commands.h"
#include "host/gateway/action_doc.h"
#include "host/gateway/catalog.h"
#include "host/gateway/cluster.h"
#include "host/gateway/egress_config.h"
#include "host/gateway/gateway.h"
#include "host/kms/quote_service.h"
#include "host/kms/sim_platform.h"
#include "host/gateway/kms_shared.h"
#include "host/scheduler/cpu_priority.h"

#include "host/util/cmdline.h"
#include "host/util/cpus.h"
#include "host/util/file.h"
#include "host/util/ids.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define DRAIN_TIMEOUT_MS 10000 /* running activations get this long on shutdown */
#define DEFAULT_MAX_ENCLAVES_PER_NS 8
/* How long an activation may run past its timeout before the host kills its
 * enclave; the engine stops it itself well within this. Under ThreadSanitizer
 * every memcpy, V8's (uninstrumented libnode) included, goes through TSan's
 * checking interceptor, so one built-in call that nothing can interrupt
 * (flattening a 64 MiB string: 5.5 s there, 30 ms in release) outlasts 2 s;
 * that build waits longer so tests see the engine's stop, not the kill
 * (docs/reliability.md, Sanitizers). */
#ifdef TFAAS_TSAN
#define KILL_GRACE_MS 15000u
#else
#define KILL_GRACE_MS 2000u
#endif

typedef struct {
    const char *listen, *state, *store, *guest_auth, *enclave, *enclave_v8, *kms, *egress, *metrics_token_file;
    const char *kms_peer; /* --kms-peer URL: a node whose KMS hands this one its keys (§5.6) */
    gateway_metrics_access metrics_access;
    unsigned workers, idle_ttl_s, max_queue, max_wait_ms, max_connections, http_threads, max_enclaves;
    unsigned max_enclaves_per_ns;
    const char *node;  /* --node: joins a cluster on a PostgreSQL store (cluster.h) */
    unsigned node_lease_ms;
    unsigned max_per_client, http_timeout_s;
    unsigned background_after_ms;
    int cpu_batch;                /* --cpu-policy batch (default) or normal */
    unsigned tenant_max_activations, tenant_max_memory_mb;
    unsigned activation_ttl_h, activation_max_count, tenant_storage_mb;
    isolation_mode isolation;
    char worker_tee[16];          /* --worker-tee: sim (default), tsm or gramine */
    const char *worker_tee_root;  /* its ROOT, NULL: the backend's default */
} serve_opts;

static void usage(FILE *f) {
    fputs("usage: tfaas serve [OPTIONS]\n"
          "\n"
          "Runs the platform: the OpenWhisk-compatible HTTP API, the scheduler and\n"
          "the enclave processes that run functions. Each start installs the read-only\n"
          "whisk.system namespace (packages utils and alarms, shared with every namespace).\n"
          "The same port serves a web console at /console (sign in with a namespace's\n"
          "UUID:KEY) and Prometheus metrics at /metrics (see --metrics-access).\n"
          "\n"
          "  --listen ADDR:PORT       address to serve on (default 127.0.0.1:3233; port 0 picks one)\n"
          "  --state DIR              state directory (default $TFAAS_STATE or ./.tfaas)\n"
          "                           owned by you, writable by neither group nor others\n"
          "  --store TARGET           where namespaces, actions and activations are kept:\n"
          "                           DIR (SQLite, DIR/tfaas.db) or a PostgreSQL URL\n"
          "                           postgresql://USER@HOST/DB (default $TFAAS_STORE, else\n"
          "                           the state directory); the state directory still holds\n"
          "                           guest.auth and the key service's files\n"
          "  --workers N              worker threads per enclave (default: number of CPUs)\n"
          "  --guest-auth UUID:KEY    credentials of the guest namespace (or $TFAAS_GUEST_AUTH;\n"
          "                           default: generated on first start); kept in DIR/guest.auth;\n"
          "                           servers sharing one --store must all be given the same\n"
          "  --enclave PATH           tfaas-enclave executable, Duktape: kind js:duktape\n"
          "                           (default: next to tfaas)\n"
          "  --enclave-v8 PATH        tfaas-enclave-v8 executable, V8: kinds js:v8 and nodejs:*\n"
          "                           (default: next to tfaas; without it those kinds fail)\n"
          "  --kms PATH               tfaas-kms executable, the key service enclave of\n"
          "                           confidential functions, with tfaas-qe (the sim TEE's\n"
          "                           quoting service) beside it (default: next to tfaas;\n"
          "                           without them confidential functions and attestation\n"
          "                           answer 503)\n"
          "  --kms-peer URL           a running node (its base URL, e.g. http://a:3233) whose\n"
          "                           key service hands this node's its keys and state\n"
          "                           over an attested channel, when the state directory has\n"
          "                           no key service keys yet (several nodes on one store;\n"
          "                           docs/protocol.md §5.6); unreachable or refused: the key\n"
          "                           service stays down (503) until serve starts again\n"
          "  --worker-tee BACKEND[:DIR]\n"
          "                           the TEE of confidential worker enclaves: sim (default),\n"
          "                           tsm (configfs-tsm of a TDX or SEV-SNP guest; DIR the\n"
          "                           report directory, default /sys/kernel/config/tsm/report)\n"
          "                           or gramine (DIR default /dev/attestation); the key\n"
          "                           service stays on sim. Hardware paths have not run on\n"
          "                           real hardware yet (docs/architecture.md)\n"
          "  --isolation MODE         which functions share an enclave process:\n"
          "                             enclave-per-function  one per function\n"
          "                             enclave-per-tenant    one per namespace (default)\n"
          "                             shared-enclave        one for all namespaces (V8: one\n"
          "                                                   per namespace all the same)\n"
          "                           (in each, one per engine, and confidential functions\n"
          "                           apart); an action may ask for a stricter mode with the\n"
          "                           annotation tfaas-isolation, never a weaker one\n"
"  --egress FILE            egress policies of fetch() per namespace: a JSON object\n"
          "                           {\"NAMESPACE\": policy, \"*\": policy for the others}; a\n"
          "                           policy is {\"allow\": [\"host[:port]\", ...], \"http\": bool,\n"
          "                           \"ca\": PEM, \"maxConnections\": N, \"maxBytes\": N}\n"
          "                           (docs/api.md, Egress policy; default: https to public\n"
          "                           addresses on port 443, never loopback, private or\n"
          "                           link-local ones); an action's annotation egress narrows it\n"
          "  --max-enclaves N         enclave processes at once, 0 = no limit (default 0); a new\n"
          "                           one stops the least recently used idle one, and an invoke\n"
          "                           that needs one while all are busy gets 503\n"
          "  --max-enclaves-per-namespace N\n"
          "                           enclave processes one namespace may have at once, 0 = no\n"
          "                           limit of its own (default 8); with --max-enclaves M a\n"
          "                           namespace also gets at most M/(H+1) (at least 1), H the\n"
          "                           namespaces holding enclaves, so one tenant cannot take them\n"
          "                           all; past its share an invoke gets 429\n"
          "  --cpu-background-after MS\n"
          "                           an enclave running an activation longer than this yields\n"
          "                           the CPU (background priority) to enclaves with shorter\n"
          "                           work; 0 = never (default 50; needs kernel autogroups, no\n"
          "                           effect in shared-enclave mode)\n"
          "  --cpu-policy POLICY      batch (default): the server's threads and enclaves do not\n"
          "                           preempt the running one when woken, so requests and\n"
          "                           results pass in bursts, with fewer context switches\n"
          "                           (SCHED_BATCH); normal: each wake-up may switch at once\n"
          "  --idle-ttl SECONDS       stop an enclave idle this long, 0 = never (default 600)\n"
          "  --max-queue N            activations waiting per action before 429 (default 1000)\n"
          "  --tenant-max-activations N\n"
          "                           activations one namespace may have in flight (queued,\n"
          "                           running, or with the record not yet written) before\n"
          "                           429, 0 = no limit (default 200)\n"
          "  --tenant-max-memory MB   memory those may hold in the server (parameters, records,\n"
          "                           one copy of each function's code) before 429, 0 = no\n"
          "                           limit (default 256)\n"
          "  --activation-ttl HOURS   activation records older than this are deleted, 0 = kept\n"
          "                           (default 168, a week)\n"
          "  --activation-max-count N activation records kept per namespace, the oldest deleted\n"
          "                           first, 0 = no limit (default 0: each trim walks the\n"
          "                           namespace's records, so it costs more the larger N is)\n"
          "  --tenant-storage MB      bytes of activation records kept per namespace, the oldest\n"
          "                           deleted first, 0 = no limit (default 512)\n"
          "  --max-blocking-wait MS   a blocking invoke answers 202 after this (default 60000)\n"
          "  --max-connections N      concurrent HTTP connections (default 1000)\n"
          "  --max-connections-per-client N\n"
          "                           of those, from one IP address; more are closed at once,\n"
          "                           0 = no limit (default 128; behind a reverse proxy on this\n"
          "                           host every client has the proxy's address: raise it)\n"
          "  --http-timeout SECONDS   close a new connection silent this long before its first\n"
          "                           request's headers are complete; 0 = never (default 15;\n"
          "                           afterwards the connection may be silent 60 s, or this\n"
          "                           long if longer; a parked blocking invoke never times out)\n"
          "  --http-threads N         event threads serving HTTP (default: CPUs it may use)\n"
          "  --metrics-access MODE    who may read GET /metrics (Prometheus): local (clients on\n"
          "                           this host, the default; behind a reverse proxy on this\n"
          "                           host that is every client: use a token), any, or off\n"
          "  --metrics-token-file FILE\n"
          "                           /metrics also needs \"Authorization: Bearer <token>\", the\n"
          "                           token being FILE's first line (Prometheus' credentials_file)\n"
          "  --node NAME              one of several nodes on this PostgreSQL store (behind a load\n"
          "                           balancer): holds a lease, and records as failed (\"node lost\")\n"
          "                           the accepted activations of nodes whose lease expired\n"
          "  --node-lease MS          a node silent this long is lost (default 5000)\n"
          "  -h, --help               this text\n"
          "\n"
          "Prints `tfaas serve: listening on http://ADDR:PORT` once ready.\n"
          "SIGINT/SIGTERM: queued activations fail at once (recorded as not run; a blocking\n"
          "caller gets 503), running ones get up to 10 s, then the server exits 0.\n", f);
}

/* Credentials as "uuid:key": canonical UUID, 64 characters of [A-Za-z0-9]. */
static int parse_auth(const char *s, char uuid[STORE_UUID_LEN + 1], char key[STORE_KEY_LEN + 1]) {
    if (!s || strlen(s) != STORE_UUID_LEN + 1 + STORE_KEY_LEN || s[STORE_UUID_LEN] != ':') return -1;
    for (int i = 0; i < STORE_UUID_LEN; i++) {
        int dash = i == 8 || i == 13 || i == 18 || i == 23;
        char c = s[i];
        if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
            return -1;
    }
    for (int i = 0; i < STORE_KEY_LEN; i++) {
        char c = s[STORE_UUID_LEN + 1 + i];
        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))) return -1;
    }
    memcpy(uuid, s, STORE_UUID_LEN);
    uuid[STORE_UUID_LEN] = '\0';
    memcpy(key, s + STORE_UUID_LEN + 1, STORE_KEY_LEN);
    key[STORE_KEY_LEN] = '\0';
    return 0;
}

/* Reads STATE/guest.auth if present and well-formed (never through a link). */
static int read_auth_file(const char *path, char uuid[STORE_UUID_LEN + 1], char key[STORE_KEY_LEN + 1]) {
    size_t len = 0;
    char *text = (char *)file_read(path, 256, &len);
    if (!text) return -1;
    text[strcspn(text, "\r\n")] = '\0';
    int rc = parse_auth(text, uuid, key);
    explicit_bzero(text, len);
    free(text);
    return rc;
}

/* --metrics-token-file: its first line, which must be 16-1024 printable
 * ASCII characters (a shorter one would be guessable). NULL when not. */
static char *read_metrics_token(const char *path) {
    size_t len = 0;
    char *text = (char *)file_read(path, 4096, &len);
    if (!text) return NULL;
    text[strcspn(text, "\r\n")] = '\0';
    size_t n = strlen(text);
    int ok = n >= 16 && n <= 1024;
    for (size_t i = 0; ok && i < n; i++) ok = text[i] > ' ' && text[i] < 0x7f;
    char *token = ok ? strdup(text) : NULL;
    explicit_bzero(text, len);
    free(text);
    return token;
}

/* Writes uuid:key to path, mode 0600, atomically (temp file + rename). */
static int write_auth_file(const char *path, const char *uuid, const char *key) {
    char line[STORE_UUID_LEN + STORE_KEY_LEN + 3];
    int n = snprintf(line, sizeof line, "%s:%s\n", uuid, key);
    return file_write_atomic(path, line, (size_t)n, 0600);
}

/* Makes sure the guest namespace exists with the wanted credential
 * (given, from guest.auth, or generated) and that guest.auth holds it. */
static int setup_guest(store *st, const char *state, const char *given) {
    char uuid[STORE_UUID_LEN + 1], key[STORE_KEY_LEN + 1], path[PATH_MAX];
    if (snprintf(path, sizeof path, "%s/guest.auth", state) >= (int)sizeof path) return -1;
    if (given) {
        if (parse_auth(given, uuid, key) < 0) {
            fprintf(stderr, "tfaas serve: --guest-auth must be UUID:KEY (a canonical UUID, ':', 64 letters or digits)\n");
            return -1;
        }
    } else if (read_auth_file(path, uuid, key) < 0) {
        if (ids_uuid(uuid) < 0 || ids_secret(key, STORE_KEY_LEN) < 0) {
            fprintf(stderr, "tfaas serve: cannot draw random credentials\n");
            return -1;
        }
    }
    store_status s = store_namespace_create(st, "guest", uuid, key, NULL, NULL);
    if (s == STORE_CONFLICT) s = store_namespace_set_credential(st, "guest", uuid, key);
    if (s != STORE_OK) {
        fprintf(stderr, "tfaas serve: cannot set up the guest namespace: %s\n", store_last_error());
        return -1;
    }
    if (write_auth_file(path, uuid, key) < 0) {
        fprintf(stderr, "tfaas serve: cannot write %s: %s\n", path, strerror(errno));
        return -1;
    }
    explicit_bzero(key, sizeof key);
    return 0;
}

/* --worker-tee BACKEND[:ROOT]: the TEE backend of confidential workers
 * (tfaas-enclave --tee, --tee-root). 0, or 1 when it is none of them. */
static int worker_tee_parse(const char *v, serve_opts *o) {
    static const char *const names[] = {"sim", "tsm", "gramine"};
    const char *colon = strchr(v, ':');
    size_t n = colon ? (size_t)(colon - v) : strlen(v);
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        if (n != strlen(names[i]) || strncmp(v, names[i], n) != 0 || (colon && (i == 0 || !colon[1]))) continue;
        memcpy(o->worker_tee, v, n);
        o->worker_tee[n] = 0;
        o->worker_tee_root = colon ? colon + 1 : NULL;
        return 0;
    }
    return 1;
}

static int parse_args(int argc, char **argv, serve_opts *o) {
    enum { O_LISTEN = 256, O_STATE, O_WORKERS, O_GUEST, O_ENCLAVE, O_TTL, O_QUEUE, O_WAIT, O_CONN, O_HTTP,
           O_ENCLAVE_V8, O_ISOLATION, O_MAX_ENCLAVES, O_BACKGROUND, O_MAX_ENCLAVES_NS, O_PER_CLIENT, O_HTTP_TIMEOUT,
           O_KMS, O_TENANT_ACTIVATIONS, O_TENANT_MEMORY, O_ACTIVATION_TTL, O_ACTIVATION_COUNT, O_TENANT_STORAGE,
           O_EGRESS, O_METRICS_ACCESS, O_METRICS_TOKEN, O_STORE, O_NODE, O_NODE_LEASE, O_KMS_PEER,
           O_WORKER_TEE, O_CPU_POLICY };
    static const struct option opts[] = {
        {"listen", required_argument, 0, O_LISTEN}, {"state", required_argument, 0, O_STATE},
        {"workers", required_argument, 0, O_WORKERS}, {"guest-auth", required_argument, 0, O_GUEST},
        {"enclave", required_argument, 0, O_ENCLAVE}, {"idle-ttl", required_argument, 0, O_TTL},
        {"max-queue", required_argument, 0, O_QUEUE}, {"max-blocking-wait", required_argument, 0, O_WAIT},
        {"max-connections", required_argument, 0, O_CONN}, {"http-threads", required_argument, 0, O_HTTP},
        {"enclave-v8", required_argument, 0, O_ENCLAVE_V8},
        {"isolation", required_argument, 0, O_ISOLATION}, {"max-enclaves", required_argument, 0, O_MAX_ENCLAVES},
        {"cpu-background-after", required_argument, 0, O_BACKGROUND},
        {"max-enclaves-per-namespace", required_argument, 0, O_MAX_ENCLAVES_NS},
        {"max-connections-per-client", required_argument, 0, O_PER_CLIENT},
        {"http-timeout", required_argument, 0, O_HTTP_TIMEOUT},
        {"kms", required_argument, 0, O_KMS},
        {"kms-peer", required_argument, 0, O_KMS_PEER},
        {"tenant-max-activations", required_argument, 0, O_TENANT_ACTIVATIONS},
        {"tenant-max-memory", required_argument, 0, O_TENANT_MEMORY},
        {"activation-ttl", required_argument, 0, O_ACTIVATION_TTL},
        {"activation-max-count", required_argument, 0, O_ACTIVATION_COUNT},
        {"tenant-storage", required_argument, 0, O_TENANT_STORAGE},
        {"egress", required_argument, 0, O_EGRESS},
        {"metrics-access", required_argument, 0, O_METRICS_ACCESS},
        {"metrics-token-file", required_argument, 0, O_METRICS_TOKEN},
        {"store", required_argument, 0, O_STORE},
        {"node", required_argument, 0, O_NODE}, {"node-lease", required_argument, 0, O_NODE_LEASE},
        {"worker-tee", required_argument, 0, O_WORKER_TEE},
        {"cpu-policy", required_argument, 0, O_CPU_POLICY},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    /* HTTP threads: the CPUs this process may run on (one event thread per
     * core it has). Enclave workers: the machine's CPUs, as many functions of
     * one enclave run side by side (time-sliced on a pinned server, so a long
     * one does not hold up a short one). */
    unsigned ncpu = cpus_usable(64);
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    *o = (serve_opts){.listen = "127.0.0.1:3233", .state = getenv("TFAAS_STATE"), .store = getenv("TFAAS_STORE"),
                      .guest_auth = getenv("TFAAS_GUEST_AUTH"), .workers = online > 0 ? (unsigned)online : 1,
                      .idle_ttl_s = 600, .max_queue = 1000, .max_wait_ms = 60000, .max_connections = 1000,
                      .http_threads = ncpu,
                      .isolation = ISOLATION_TENANT, .max_enclaves_per_ns = DEFAULT_MAX_ENCLAVES_PER_NS,
                      .max_per_client = GATEWAY_MAX_PER_CLIENT, .http_timeout_s = GATEWAY_HEAD_TIMEOUT_S,
                      .background_after_ms = CPU_PRIORITY_DEFAULT_AFTER_MS,
                      .tenant_max_activations = 200, .tenant_max_memory_mb = 256,
                      .activation_ttl_h = 168, .activation_max_count = 0, .tenant_storage_mb = 512,
                      .node_lease_ms = CLUSTER_LEASE_MS_DEFAULT, .cpu_batch = 1};
    strcpy(o->worker_tee, "sim");
    if (!o->state || !*o->state) o->state = ".tfaas";
    if (o->guest_auth && !*o->guest_auth) o->guest_auth = NULL;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case O_LISTEN: o->listen = optarg; break;
        case O_STATE: o->state = optarg; break;
        case O_STORE: o->store = optarg; break;
        case O_GUEST: o->guest_auth = optarg; break;
        case O_ENCLAVE: o->enclave = optarg; break;
        case O_ENCLAVE_V8: o->enclave_v8 = optarg; break;
        case O_KMS: o->kms = optarg; break;
        case O_KMS_PEER: o->kms_peer = optarg; break;
        case O_EGRESS: o->egress = optarg; break;
        case O_WORKERS: bad = cmdline_uint(optarg, 1, 1024, &o->workers); break;
        case O_TTL: bad = cmdline_uint(optarg, 0, 30u * 86400, &o->idle_ttl_s); break;
        case O_QUEUE: bad = cmdline_uint(optarg, 1, 1000000, &o->max_queue); break;
        case O_WAIT: bad = cmdline_uint(optarg, 0, 3600000, &o->max_wait_ms); break;
        case O_CONN: bad = cmdline_uint(optarg, 1, 100000, &o->max_connections); break;
        case O_HTTP: bad = cmdline_uint(optarg, 1, 64, &o->http_threads); break;
        case O_ISOLATION: bad = isolation_parse(optarg, &o->isolation); break;
        case O_MAX_ENCLAVES: bad = cmdline_uint(optarg, 0, 1000000, &o->max_enclaves); break;
        case O_BACKGROUND: bad = cmdline_uint(optarg, 0, LIMIT_TIMEOUT_MAX, &o->background_after_ms); break;
        case O_MAX_ENCLAVES_NS: bad = cmdline_uint(optarg, 0, 1000000, &o->max_enclaves_per_ns); break;
        case O_PER_CLIENT: bad = cmdline_uint(optarg, 0, 100000, &o->max_per_client); break;
        case O_HTTP_TIMEOUT: bad = cmdline_uint(optarg, 0, 86400, &o->http_timeout_s); break;
        case O_TENANT_ACTIVATIONS: bad = cmdline_uint(optarg, 0, 10000000, &o->tenant_max_activations); break;
        case O_TENANT_MEMORY: bad = cmdline_uint(optarg, 0, 16u << 20, &o->tenant_max_memory_mb); break;
        case O_ACTIVATION_TTL: bad = cmdline_uint(optarg, 0, 24u * 366 * 100, &o->activation_ttl_h); break;
        case O_ACTIVATION_COUNT: bad = cmdline_uint(optarg, 0, 1000000000, &o->activation_max_count); break;
        case O_TENANT_STORAGE: bad = cmdline_uint(optarg, 0, 1u << 30, &o->tenant_storage_mb); break;
        case O_METRICS_ACCESS: bad = gateway_metrics_access_parse(optarg, &o->metrics_access); break;
        case O_METRICS_TOKEN: o->metrics_token_file = optarg; break;
        case O_NODE: o->node = optarg; break;
        case O_NODE_LEASE: bad = cmdline_uint(optarg, 300, 3600000, &o->node_lease_ms); break;
        case O_WORKER_TEE: bad = worker_tee_parse(optarg, o); break;
        case O_CPU_POLICY:
            o->cpu_batch = !strcmp(optarg, "batch");
            bad = !o->cpu_batch && strcmp(optarg, "normal");
            break;
        case 'h': usage(stdout); return 1;
        default: usage(stderr); return -1;
        }
        if (bad) {
            const char *name = "?";
            for (const struct option *op = opts; op->name; op++)
                if (op->val == c) name = op->name;
            fprintf(stderr, "tfaas serve: invalid value '%s' for --%s%s\n", optarg, name,
                    c == O_ISOLATION ? " (use " ISOLATION_NAMES ")"
                    : c == O_METRICS_ACCESS ? " (use local, any or off)"
                    : c == O_WORKER_TEE ? " (use sim, tsm[:DIR] or gramine[:DIR])"
                    : c == O_CPU_POLICY ? " (use batch or normal)" : "");
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tfaas serve: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    return 0;
}

/* --cpu-background-after, or 0 where it would do nothing: one process for
 * every tenant, or no autogroups on this machine (said once, at start). */
static unsigned background_after(const serve_opts *o) {
    char why[256];
    if (!o->background_after_ms || o->isolation == ISOLATION_SHARED) return 0;
    if (!cpu_priority_available(why, sizeof why)) {
        fprintf(stderr, "tfaas serve: warning: long activations keep their CPU priority: %s\n", why);
        return 0;
    }
    return o->background_after_ms;
}

/* The key service (tfaas-kms) and the quoting service (tfaas-qe, found
 * beside it): both or neither. Without them confidential functions and
 * /tfaas/v1/attestation answer 503; everything else still runs. */
/* An enclave reader's burst of finished activations: their records are
 * committed together, on that thread (store_activation_section_begin). */
static void records_burst_begin(void *ud) { store_activation_section_begin(ud); }
static void records_burst_end(void *ud) { store_activation_section_end(ud); }

static void start_confidential(const serve_opts *o, store *st, const char *enclave, const char *enclave_v8,
                               const char *platform_key, kms_service **kms, quote_service **qe) {
    char *kms_path = o->kms ? strdup(o->kms) : cmdline_beside_self("tfaas-kms"), *qe_path = NULL, *err = NULL;
    char *copy = kms_path ? strdup(kms_path) : NULL;
    if (copy && asprintf(&qe_path, "%s/tfaas-qe", dirname(copy)) < 0) qe_path = NULL;
    free(copy);
    const char *missing = !kms_path || access(kms_path, X_OK) != 0 ? kms_path
                          : !qe_path || access(qe_path, X_OK) != 0 ? qe_path : NULL;
    if (!kms_path || !qe_path || missing) {
        fprintf(stderr, "tfaas serve: warning: %s is missing or not executable; confidential functions and "
                "/tfaas/v1/attestation answer 503\n", missing ? missing : "tfaas-kms");
        free(kms_path);
        free(qe_path);
        return;
    }
    /* The attestation document lists the worker measurements next to the
     * KMS's (docs/protocol.md §5.1), so a tenant can compare them with the
     * binaries it trusts before it names them in a policy. */
    const kms_worker_binary workers[] = {{"duktape", enclave}, {"v8", enclave_v8}};
    /* Deploy versions and replay leases go through the store too, so every
     * node on it sees each other's (docs/architecture.md). */
    const kms_shared_store shared = kms_shared_in_store(st);
    kms_config kc = {.kms_path = kms_path, .state_dir = o->state, .platform_key = platform_key,
                     .workers = workers, .nworkers = sizeof workers / sizeof workers[0], .peer = o->kms_peer,
                     .shared = &shared};
    *qe = quote_service_start(qe_path, platform_key, &err);
    if (*qe) *kms = kms_service_start(&kc, &err);
    if (!*kms) {
        fprintf(stderr, "tfaas serve: warning: the %s did not start (%s); confidential functions and "
                "/tfaas/v1/attestation answer 503\n", *qe ? "key service" : "quoting service",
                err ? err : "unknown error");
        quote_service_stop(*qe);
        *qe = NULL;
    }
    free(err);
    free(kms_path);
    free(qe_path);
}

int serve_main(int argc, char **argv) {
    serve_opts o;
    int pr = parse_args(argc, argv, &o);
    if (pr != 0) return pr > 0 ? 0 : 2;
    /* First, so every thread and enclave inherits it (cpu_priority.h). */
    if (cpu_priority_policy(o.cpu_batch) < 0)
        fprintf(stderr, "tfaas serve: warning: cannot set the CPU policy: %s\n", strerror(errno));

    struct sockaddr_storage addr;
    socklen_t addr_len;
    char host[256];
    if (cmdline_listen_opt("serve", o.listen, &addr, &addr_len, host, sizeof host) < 0) return 2;
    char *enclave = o.enclave ? strdup(o.enclave) : cmdline_beside_self("tfaas-enclave");
    if (!enclave || access(enclave, X_OK) != 0) {
        fprintf(stderr, "tfaas serve: enclave executable %s is missing or not executable\n",
                enclave ? enclave : "tfaas-enclave");
        free(enclave);
        return 1;
    }
    /* V8 is optional (a build without it): say so once, then its kinds fail
     * with "Could not start an enclave". One named explicitly must exist. */
    char *enclave_v8 = o.enclave_v8 ? strdup(o.enclave_v8) : cmdline_beside_self("tfaas-enclave-v8");
    if (enclave_v8 && access(enclave_v8, X_OK) != 0) {
        fprintf(stderr, "tfaas serve: %s %s is missing or not executable%s\n",
                o.enclave_v8 ? "enclave executable" : "warning: V8 enclave", enclave_v8,
                o.enclave_v8 ? "" : "; kinds js:v8 and nodejs:* will fail");
        free(enclave_v8);
        if (o.enclave_v8) {
            free(enclave);
            return 1;
        }
        enclave_v8 = NULL;
    }

    char *metrics_token = NULL; /* the gateway keeps a copy; this one goes at the end */
    if (o.metrics_token_file && !(metrics_token = read_metrics_token(o.metrics_token_file))) {
        fprintf(stderr, "tfaas serve: --metrics-token-file %s: not readable, a link, or its first line is not "
                "16-1024 printable characters\n", o.metrics_token_file);
        free(enclave);
        free(enclave_v8);
        return 2;
    }

    /* Signals are taken synchronously by this thread (sigwait); every
     * thread started from here on inherits the mask. */
    sigset_t sigs;
    cmdline_stop_signals(&sigs);

    int rc = 1;
    store *st = NULL;
    scheduler *sched = NULL;
    gateway *gw = NULL;
    cluster_node *node = NULL;
    kms_service *kms = NULL;
    quote_service *qe = NULL;
    json_t *egress = NULL;
    /* What each namespace holds in the server (budget.h): the scheduler's
     * activations and, until the store has them, their records. */
    budget *tenants = budget_new(o.tenant_max_activations, (uint64_t)o.tenant_max_memory_mb << 20);
    char *err = NULL, *platform_key = NULL, *platform_root = NULL;
    if (!tenants) {
        fprintf(stderr, "tfaas serve: out of memory\n");
        goto out;
    }
    if (o.egress && !(egress = egress_config_load(o.egress, &err))) {
        fprintf(stderr, "tfaas serve: %s\n", err ? err : "cannot read the egress policies");
        goto out;
    }
    if (mkdir(o.state, 0700) != 0 && errno != EEXIST) {
        fprintf(stderr, "tfaas serve: cannot create state directory %s: %s\n", o.state, strerror(errno));
        goto out;
    }
    if (!o.store || !*o.store) o.store = o.state;
    /* The state directory holds guest.auth and the key service's files
     * whatever the store: it must be private (SQLite's open checks it too,
     * a PostgreSQL store would not). */
    if (o.store != o.state && file_check_private_dir(o.state, &err) < 0) {
        fprintf(stderr, "tfaas serve: %s\n", err ? err : "the state directory is not private");
        goto out;
    }
    if (store_open(o.store, &st, &err) != STORE_OK) {
        /* not the target itself: a PostgreSQL URL may carry a password */
        fprintf(stderr, "tfaas serve: cannot open the store%s%s: %s\n", o.store == o.state ? " in " : "",
                o.store == o.state ? o.state : "", err ? err : "unknown error");
        goto out;
    }
    store_retention keep = {.max_age_ms = (int64_t)o.activation_ttl_h * 3600 * 1000,
                            .max_count = o.activation_max_count,
                            .max_bytes = (int64_t)o.tenant_storage_mb << 20};
    store_set_retention(st, &keep);
    if (setup_guest(st, o.state, o.guest_auth) < 0) goto out;
    if (catalog_install(st, &err) < 0) { /* whisk.system/utils and alarms */
        fprintf(stderr, "tfaas serve: %s\n", err ? err : "cannot install the whisk.system catalog");
        goto out;
    }
    /* The sim TEE's platform key: only the key service and the quoting
     * service read it; confidential workers get its public half and a
     * quoting channel. */
    if (sim_platform_ensure(o.state, &platform_key, &err) < 0) {
        fprintf(stderr, "tfaas serve: warning: no simulated TEE platform key (%s); confidential "
                "functions are unavailable\n", err ? err : "unknown error");
        free(err);
        err = NULL;
    }
    if (platform_key && asprintf(&platform_root, "%s/%s", o.state, SIM_PLATFORM_PEM) < 0) platform_root = NULL;
    /* A hardware worker TEE (--worker-tee) still gets the sim platform's
     * public key: the key service runs on sim and the worker verifies it. */
    const char *tee_args[] = {"--tee", o.worker_tee, "--platform-root", platform_root, "--quote-fd", "4",
                              o.worker_tee_root ? "--tee-root" : NULL, o.worker_tee_root, NULL};
    if (platform_key && platform_root) start_confidential(&o, st, enclave, enclave_v8, platform_key, &kms, &qe);
    scheduler_config sc = {.enclave_path = enclave, .enclave_v8_path = enclave_v8, .workers = o.workers,
                           .idle_ttl_ms = o.idle_ttl_s * 1000u, .max_queue = o.max_queue,
                           .kill_grace_ms = KILL_GRACE_MS, .isolation = o.isolation, .max_enclaves = o.max_enclaves,
                           .max_enclaves_per_ns = o.max_enclaves_per_ns,
                           .background_after_ms = background_after(&o),
                           .enclave_args = kms ? tee_args : NULL,
                           .release = confidential_release, .release_ud = kms, /* kms NULL: 503 */
                           .quote = kms ? quote_service_channel : NULL, .quote_ud = qe, .budget = tenants,
                           .burst_begin = records_burst_begin, .burst_end = records_burst_end, .burst_ud = st};
    sched = scheduler_create(&sc, &err);
    if (!sched) {
        fprintf(stderr, "tfaas serve: cannot start the scheduler: %s\n", err ? err : "unknown error");
        goto out;
    }
    if (o.node && !(node = cluster_start(st, o.store, o.node, o.node_lease_ms, &err))) {
        fprintf(stderr, "tfaas serve: %s\n", err ? err : "cannot join the cluster");
        goto out;
    }
    gateway_config gc = {.addr = (struct sockaddr *)&addr, .addr_len = addr_len,
                         .max_connections = o.max_connections, .max_blocking_wait_ms = o.max_wait_ms,
                         .max_per_client = o.max_per_client, .head_timeout_s = o.http_timeout_s,
                         .http_threads = o.http_threads, .store = st, .scheduler = sched, .budget = tenants,
                         .kms = kms, .egress = egress, .metrics_access = o.metrics_access,
                         .metrics_token = metrics_token, .cluster = node};
    gw = gateway_start(&gc, &err);
    if (!gw) {
        fprintf(stderr, "tfaas serve: %s on %s\n", err ? err : "cannot listen", o.listen);
        goto out;
    }
    int v6 = addr.ss_family == AF_INET6;
    printf("tfaas serve: isolation %s", isolation_name(o.isolation));
    if (o.max_enclaves) printf(", at most %u enclaves", o.max_enclaves);
    if (o.max_enclaves_per_ns) printf(", at most %u per namespace", o.max_enclaves_per_ns);
    if (sc.background_after_ms) printf(", activations past %u ms yield the CPU", sc.background_after_ms);
    printf("\n");
    printf("tfaas serve: listening on http://%s%s%s:%u\n", v6 ? "[" : "", host, v6 ? "]" : "", gateway_port(gw));
    fflush(stdout);

    /* Until a signal: notice namespaces deleted by `tfaas admin` (tenants.c). */
    uint64_t ns_epoch = store_namespace_epoch(st);
    const struct timespec poll = {0, GATEWAY_RETIRE_POLL_MS * 1000000L};
    int sig;
    while ((sig = sigtimedwait(&sigs, NULL, &poll)) < 0) gateway_retire_deleted(gw, &ns_epoch);
    fprintf(stderr, "tfaas serve: %s, shutting down\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    /* Bounded: nothing queued starts (no enclave is started or replaced any
     * more), running activations get DRAIN_TIMEOUT_MS, then are killed. */
    gateway_quiesce(gw);
    scheduler_quiesce(sched);
    unsigned left = gateway_drain(gw, DRAIN_TIMEOUT_MS);
    if (left) fprintf(stderr, "tfaas serve: %u activations or requests still pending; ending them\n", left);
    rc = 0;
out:
    /* Order matters: the scheduler completes what is left (its callbacks
     * queue records in the store), then the connections waiting for those
     * records are answered and closed, then the store drains its writes. */
    if (sched) scheduler_destroy(sched);
    if (gw) gateway_drain(gw, DRAIN_TIMEOUT_MS);
    gateway_stop(gw);
    /* Uses the store, so before it closes. The lease then expires; store_close
     * commits the records still queued well within it. */
    cluster_stop(node);
    kms_service_stop(kms);
    quote_service_stop(qe);
    free(platform_key);
    free(platform_root);
    store_close(st); /* its last callbacks still give back to the budget */
    budget_free(tenants);
    json_decref(egress);
    free(err);
    free(enclave);
    free(enclave_v8);
    if (metrics_token) explicit_bzero(metrics_token, strlen(metrics_token));
    free(metrics_token);
    return rc;
}
