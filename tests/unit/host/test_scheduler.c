/* test_scheduler.c - the scheduler against the real tfaas-enclave binary
 * ($TFAAS_BIN/tfaas-enclave): round trips, the NEED_CODE path, one enclave
 * per namespace, function concurrency and queue bounds, timeouts, enclave
 * death, idle eviction, launch failure and destroy with work in flight; the
 * isolation modes (names, policy, unit keys, one enclave per function / for
 * all namespaces, per-action requests), the --max-enclaves limit, the fair
 * share of enclaves per namespace, retiring a deleted namespace, quiescing
 * for shutdown, the shared enclave's lanes (retired, yielding to another
 * namespace, surviving a crash) and the background CPU priority of enclaves
 * running a long activation. */
#include "check.h"
#include "host/scheduler/cpu_priority.h"
#include "host/scheduler/scheduler.h"
#include "host/util/clock.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define HELLO "function main(p){ return {hello: p.name}; }"
#define SLOW "function main(){var t=Date.now(); while(Date.now()-t<200){} return {ok:true}}"
#define SLOWER "function main(){var t=Date.now(); while(Date.now()-t<1500){} return {ok:true}}"
#define LOOP "function main(){ while(true){} }"
#define WAIT_MS 20000
#define SCHED_UNIT_TEST_MAX ISOLATION_UNIT_MAX(256)

/* One submission's outcome, filled by the callback on a scheduler thread. */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls;
    sched_result res;
    uint64_t done_us;
} waiter;

static void waiter_init(waiter *w) {
    memset(w, 0, sizeof *w);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
}

static void waiter_fini(waiter *w) {
    sched_result_free(&w->res);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
}

static void on_done(void *ud, sched_result *r) {
    waiter *w = ud;
    pthread_mutex_lock(&w->mu);
    if (w->calls++ == 0) w->res = *r; /* takes the strings */
    else sched_result_free(r);
    w->done_us = clock_mono_us();
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

/* 0 once the callback ran, -1 after WAIT_MS. */
static int waiter_wait(waiter *w) {
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += WAIT_MS / 1000;
    pthread_mutex_lock(&w->mu);
    int rc = 0;
    while (w->calls == 0 && rc == 0) rc = pthread_cond_timedwait(&w->cv, &w->mu, &ts);
    int ok = w->calls > 0;
    pthread_mutex_unlock(&w->mu);
    return ok ? 0 : -1;
}

static sched_job job(const char *ns, const char *fn_key, const char *code, const char *params) {
    sched_job j = {
        .ns = ns, .fn_key = fn_key, .code = code, .code_len = strlen(code), .main = "main",
        .params_json = params, .params_len = strlen(params), .activation_id = "0123456789abcdef",
        .timeout_ms = 5000, .memory_bytes = 256u << 20, .max_result_bytes = 1u << 20,
        .max_log_bytes = 1u << 20, .concurrency = 1,
    };
    return j;
}

/* Submits and waits; returns the callback count (1 expected). */
static int run(scheduler *s, const sched_job *j, waiter *w) {
    waiter_init(w);
    if (scheduler_submit(s, j, on_done, w) != 0) return -1;
    if (waiter_wait(w) != 0) return -1;
    return w->calls;
}

static char enclave_path[4096];

static scheduler *make_cfg(const scheduler_config *cfg) {
    char *err = NULL;
    scheduler *s = scheduler_create(cfg, &err);
    if (!s) fprintf(stderr, "scheduler_create: %s\n", err ? err : "?");
    free(err);
    return s;
}

static scheduler *make_share(isolation_mode mode, unsigned max_enclaves, unsigned per_ns) {
    scheduler_config cfg = {.enclave_path = enclave_path, .workers = 2, .max_queue = 4, .kill_grace_ms = 1000,
                            .isolation = mode, .max_enclaves = max_enclaves, .max_enclaves_per_ns = per_ns};
    return make_cfg(&cfg);
}

static scheduler *make_mode(unsigned idle_ttl_ms, unsigned max_queue, isolation_mode mode, unsigned max_enclaves) {
    scheduler_config cfg = {.enclave_path = enclave_path, .workers = 2, .idle_ttl_ms = idle_ttl_ms,
                            .max_queue = max_queue, .kill_grace_ms = 1000, .isolation = mode,
                            .max_enclaves = max_enclaves};
    return make_cfg(&cfg);
}

static scheduler *make(unsigned idle_ttl_ms, unsigned max_queue) {
    return make_mode(idle_ttl_ms, max_queue, ISOLATION_UNSET, 0);
}

static void sleep_ms(unsigned ms) {
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

static void test_bad_input(void) {
    char *err = NULL;
    scheduler_config cfg = {.enclave_path = "/nonexistent/tfaas-enclave", .workers = 1};
    CHECK(scheduler_create(&cfg, &err) == NULL);
    CHECK(err && strstr(err, "/nonexistent/tfaas-enclave"));
    free(err);

    scheduler *s = make(0, 4);
    CHECK(s != NULL);
    if (!s) return;
    waiter w;
    waiter_init(&w);
    sched_job j = job("", "x/f@1", HELLO, "{}");
    errno = 0;
    CHECK(scheduler_submit(s, &j, on_done, &w) == -1 && errno == EINVAL);
    j = job("t0", "t0/f@1", HELLO, "{}");
    CHECK(scheduler_submit(s, &j, NULL, &w) == -1 && errno == EINVAL);
    scheduler_destroy(s);
    CHECK(w.calls == 0);
    waiter_fini(&w);
}

static void test_hello_and_code_cache(scheduler *s) {
    waiter w;
    sched_job j = job("t1", "t1/hello@1", HELLO, "{\"name\":\"tfaas\"}");
    CHECK(run(s, &j, &w) == 1);
    CHECK(w.res.status == TFAAS_STATUS_SUCCESS);
    CHECK(w.res.result_json && strstr(w.res.result_json, "\"tfaas\""));
    CHECK(w.res.logs != NULL);
    waiter_fini(&w);

    /* Warm: sent without code and still answered. */
    sched_stats st0, st1;
    scheduler_stats(s, &st0);
    j = job("t1", "t1/hello@1", HELLO, "{\"name\":\"warm\"}");
    CHECK(run(s, &j, &w) == 1);
    CHECK(w.res.status == TFAAS_STATUS_SUCCESS && strstr(w.res.result_json, "\"warm\""));
    waiter_fini(&w);
    scheduler_stats(s, &st1);
    CHECK(st1.code_resends == st0.code_resends);

    /* The enclave forgets the code behind the host's back: NEED_CODE, resend. */
    CHECK(scheduler_debug_evict(s, "tenant:t1", "t1/hello@") == 0);
    j = job("t1", "t1/hello@1", HELLO, "{\"name\":\"again\"}");
    CHECK(run(s, &j, &w) == 1);
    CHECK(w.res.status == TFAAS_STATUS_SUCCESS && strstr(w.res.result_json, "\"again\""));
    waiter_fini(&w);
    scheduler_stats(s, &st1);
    CHECK(st1.code_resends == st0.code_resends + 1);

    /* A real drop makes the host send the code itself: no resend needed. */
    scheduler_drop(s, "t1", "hello");
    j = job("t1", "t1/hello@1", HELLO, "{\"name\":\"dropped\"}");
    CHECK(run(s, &j, &w) == 1);
    CHECK(w.res.status == TFAAS_STATUS_SUCCESS && strstr(w.res.result_json, "\"dropped\""));
    waiter_fini(&w);
    scheduler_stats(s, &st0);
    CHECK(st0.code_resends == st1.code_resends);
}

static void test_namespaces(scheduler *s) {
    waiter w;
    sched_job j = job("t2a", "t2a/f@1", HELLO, "{}");
    CHECK(run(s, &j, &w) == 1 && w.res.status == TFAAS_STATUS_SUCCESS);
    waiter_fini(&w);
    j = job("t2b", "t2b/f@1", HELLO, "{}");
    CHECK(run(s, &j, &w) == 1 && w.res.status == TFAAS_STATUS_SUCCESS);
    waiter_fini(&w);
    pid_t a = scheduler_enclave_pid(s, "tenant:t2a"), b = scheduler_enclave_pid(s, "tenant:t2b");
    CHECK(a > 0 && b > 0 && a != b);
    CHECK(scheduler_enclave_pid(s, "tenant:nobody") == 0);
}

/* Two 200 ms activations; returns the wall time until both finished (ms). */
static uint64_t two_slow(scheduler *s, const char *ns, const char *key, uint32_t concurrency,
                         uint64_t *wait2_us) {
    waiter w1, w2;
    waiter_init(&w1);
    waiter_init(&w2);
    sched_job j = job(ns, key, SLOW, "{}");
    j.concurrency = concurrency;
    uint64_t t0 = clock_mono_us();
    CHECK(scheduler_submit(s, &j, on_done, &w1) == 0);
    CHECK(scheduler_submit(s, &j, on_done, &w2) == 0);
    CHECK(waiter_wait(&w1) == 0 && waiter_wait(&w2) == 0);
    CHECK(w1.res.status == TFAAS_STATUS_SUCCESS && w2.res.status == TFAAS_STATUS_SUCCESS);
    uint64_t end = w1.done_us > w2.done_us ? w1.done_us : w2.done_us;
    *wait2_us = w2.res.wait_us;
    waiter_fini(&w1);
    waiter_fini(&w2);
    return (end - t0) / 1000;
}

static void test_concurrency(scheduler *s) {
    waiter w;
    sched_job warm = job("t3", "t3/warm@1", HELLO, "{}");
    CHECK(run(s, &warm, &w) == 1); /* enclave up before timing */
    waiter_fini(&w);
    uint64_t wait2;
    uint64_t serial = two_slow(s, "t3", "t3/one@1", 1, &wait2);
    CHECK(serial >= 390);
    CHECK(wait2 >= 150000); /* the second waited for the first */
    uint64_t parallel = two_slow(s, "t3", "t3/two@1", 2, &wait2);
    CHECK(parallel < 390);
    CHECK(wait2 < 150000);
    printf("concurrency 1: %llu ms, concurrency 2: %llu ms\n", (unsigned long long)serial,
           (unsigned long long)parallel);
}

static void test_queue_bound(void) {
    scheduler *s = make(0, 2);
    CHECK(s != NULL);
    if (!s) return;
    waiter w[4];
    sched_job j = job("t4", "t4/slow@1", SLOW, "{}");
    for (int i = 0; i < 3; i++) { /* one running, two queued */
        waiter_init(&w[i]);
        CHECK(scheduler_submit(s, &j, on_done, &w[i]) == 0);
    }
    waiter_init(&w[3]);
    errno = 0;
    CHECK(scheduler_submit(s, &j, on_done, &w[3]) == -1 && errno == EAGAIN);
    sched_stats st;
    scheduler_stats(s, &st);
    /* three held (one to run, two waiting here or in the enclave's lane) */
    CHECK(st.running + st.pending + st.queued == 3);
    for (int i = 0; i < 3; i++) {
        CHECK(waiter_wait(&w[i]) == 0 && w[i].res.status == TFAAS_STATUS_SUCCESS);
        waiter_fini(&w[i]);
    }
    /* the queue drained: room again */
    CHECK(scheduler_submit(s, &j, on_done, &w[3]) == 0);
    CHECK(waiter_wait(&w[3]) == 0 && w[3].res.status == TFAAS_STATUS_SUCCESS);
    waiter_fini(&w[3]);
    scheduler_destroy(s);
}

static void test_timeout(scheduler *s) {
    waiter w;
    sched_job j = job("t5", "t5/loop@1", LOOP, "{}");
    j.timeout_ms = 300;
    uint64_t t0 = clock_mono_us();
    CHECK(run(s, &j, &w) == 1);
    uint64_t took_ms = (clock_mono_us() - t0) / 1000;
    CHECK(w.res.status == TFAAS_STATUS_DEVELOPER_ERR);
    CHECK(w.res.result_json &&
          strstr(w.res.result_json, "The action exceeded its time limits of 300 milliseconds."));
    CHECK(took_ms >= 290 && took_ms < 300 + 1000 + 1000); /* timeout + kill grace + slack */
    waiter_fini(&w);
    j = job("t5", "t5/hello@1", HELLO, "{\"name\":\"after\"}");
    CHECK(run(s, &j, &w) == 1 && w.res.status == TFAAS_STATUS_SUCCESS);
    CHECK(strstr(w.res.result_json, "\"after\"") != NULL);
    waiter_fini(&w);
}

static void test_enclave_killed(scheduler *s) {
    waiter w;
    sched_job j = job("t6", "t6/hello@1", HELLO, "{}");
    CHECK(run(s, &j, &w) == 1);
    waiter_fini(&w);
    pid_t pid = scheduler_enclave_pid(s, "tenant:t6");
    CHECK(pid > 0);
    waiter_init(&w);
    j = job("t6", "t6/slower@1", SLOWER, "{}");
    CHECK(scheduler_submit(s, &j, on_done, &w) == 0);
    sleep_ms(200);
    CHECK(pid > 0 && kill(pid, SIGKILL) == 0);
    CHECK(waiter_wait(&w) == 0);
    CHECK(w.res.status == TFAAS_STATUS_DEVELOPER_ERR);
    CHECK(w.res.result_json &&
          strstr(w.res.result_json, "The action did not produce a valid response and exited unexpectedly."));
    /* the enclave reported nothing: the host timed the run up to the kill */
    CHECK(w.res.duration_us >= 150000 && w.res.duration_us < 5000000);
    waiter_fini(&w);
    j = job("t6", "t6/hello@1", HELLO, "{\"name\":\"reborn\"}");
    CHECK(run(s, &j, &w) == 1 && w.res.status == TFAAS_STATUS_SUCCESS);
    CHECK(strstr(w.res.result_json, "\"reborn\"") != NULL);
    waiter_fini(&w);
    pid_t pid2 = scheduler_enclave_pid(s, "tenant:t6");
    CHECK(pid2 > 0 && pid2 != pid);
    sched_stats st;
    scheduler_stats(s, &st);
    CHECK(st.enclaves_died >= 1);
}

/* Pipelining: activations beyond a function's concurrency wait in its lane
 * inside the enclave. When the enclave dies under the one that runs, that
 * one fails as before, and those waiting behind it (they never ran) run on
 * the next enclave instead of failing with it. */
static void test_lane_survives_kill(scheduler *s) {
    waiter slow, behind[3];
    sched_job j = job("t9", "t9/slower@1", SLOWER, "{}");
    waiter_init(&slow);
    CHECK(scheduler_submit(s, &j, on_done, &slow) == 0);
    for (int i = 0; i < 3; i++) {
        waiter_init(&behind[i]);
        CHECK(scheduler_submit(s, &j, on_done, &behind[i]) == 0);
    }
    sched_stats st = {0};
    for (unsigned waited = 0; waited < WAIT_MS && !(st.running == 1 && st.queued == 3); waited += 10) {
        sleep_ms(10);
        scheduler_stats(s, &st);
    }
    CHECK(st.running == 1 && st.queued == 3); /* one runs, three wait (in the enclave's lane) */
    pid_t pid = scheduler_enclave_pid(s, "tenant:t9");
    CHECK(pid > 0 && kill(pid, SIGKILL) == 0);
    CHECK(waiter_wait(&slow) == 0 && slow.res.status == TFAAS_STATUS_DEVELOPER_ERR);
    CHECK(slow.res.result_json && strstr(slow.res.result_json, "exited unexpectedly"));
    for (int i = 0; i < 3; i++) {
        CHECK(waiter_wait(&behind[i]) == 0 && behind[i].res.status == TFAAS_STATUS_SUCCESS);
        CHECK(behind[i].calls == 1 && !behind[i].res.not_run);
        waiter_fini(&behind[i]);
    }
    waiter_fini(&slow);
}

static void test_idle_eviction(void) {
    scheduler *s = make(300, 4);
    CHECK(s != NULL);
    if (!s) return;
    waiter w;
    sched_job j = job("t7", "t7/hello@1", HELLO, "{}");
    CHECK(run(s, &j, &w) == 1 && w.res.status == TFAAS_STATUS_SUCCESS);
    waiter_fini(&w);
    pid_t pid = scheduler_enclave_pid(s, "tenant:t7");
    CHECK(pid > 0);
    sleep_ms(150); /* still inside the TTL */
    CHECK(scheduler_enclave_pid(s, "tenant:t7") == pid);
    sched_stats st;
    for (int i = 0; i < 100; i++) { /* stopped and reaped within a few seconds */
        scheduler_stats(s, &st);
        if (st.enclaves == 0) break;
        sleep_ms(50);
    }
    CHECK(st.enclaves == 0 && st.enclaves_stopped == 1 && st.enclaves_died == 0);
    CHECK(scheduler_enclave_pid(s, "tenant:t7") == 0);
    CHECK(kill(pid, 0) == -1 && errno == ESRCH); /* exited and reaped */
    j = job("t7", "t7/hello@1", HELLO, "{\"name\":\"back\"}");
    CHECK(run(s, &j, &w) == 1 && w.res.status == TFAAS_STATUS_SUCCESS);
    CHECK(strstr(w.res.result_json, "\"back\"") != NULL);
    waiter_fini(&w);
    scheduler_stats(s, &st);
    CHECK(st.enclaves_started == 2 && st.enclaves == 1);
    scheduler_destroy(s);
}

/* A fresh scheduler running one SLOWER activation of ns/slower@1 (w1) with
 * a second one queued behind it (w2), once the first is inside its enclave;
 * NULL if it could not be set up. */
static scheduler *running_and_queued(const char *ns, waiter *w1, waiter *w2) {
    waiter_init(w1);
    waiter_init(w2);
    scheduler *s = make(0, 4);
    CHECK(s != NULL);
    if (!s) return NULL;
    char key[128];
    snprintf(key, sizeof key, "%s/slower@1", ns);
    sched_job j = job(ns, key, SLOWER, "{}");
    CHECK(scheduler_submit(s, &j, on_done, w1) == 0);
    CHECK(scheduler_submit(s, &j, on_done, w2) == 0);
    sched_stats st = {0};
    for (unsigned waited = 0; waited < WAIT_MS && !(st.running == 1 && st.queued == 1); waited += 10) {
        sleep_ms(10);
        scheduler_stats(s, &st);
    }
    CHECK(st.running == 1 && st.queued == 1);
    return s;
}

static void test_destroy_in_flight(void) {
    waiter w1, w2;
    scheduler *s = running_and_queued("t8", &w1, &w2);
    if (!s) return;
    scheduler_destroy(s);
    CHECK(w1.calls == 1 && w1.res.status == TFAAS_STATUS_INTERNAL_ERR);
    CHECK(w2.calls == 1 && w2.res.status == TFAAS_STATUS_INTERNAL_ERR);
    CHECK(w1.res.result_json && strstr(w1.res.result_json, "\"error\""));
    waiter_fini(&w1);
    waiter_fini(&w2);
}

static void test_launch_failure(void) {
    /* An executable that exits at once never says hello. */
    scheduler_config cfg = {.enclave_path = "/bin/false", .workers = 1, .max_queue = 4, .kill_grace_ms = 100};
    scheduler *s = scheduler_create(&cfg, NULL);
    CHECK(s != NULL);
    if (!s) return;
    waiter w;
    sched_job j = job("t9", "t9/f@1", HELLO, "{}");
    CHECK(run(s, &j, &w) == 1);
    CHECK(w.res.status == TFAAS_STATUS_INTERNAL_ERR);
    CHECK(w.res.result_json && strstr(w.res.result_json, "Could not start an enclave"));
    waiter_fini(&w);
    scheduler_destroy(s);
}

static void test_isolation_pure(void) {
    isolation_mode m = ISOLATION_UNSET;
    CHECK(isolation_parse("enclave-per-function", &m) == 0 && m == ISOLATION_FUNCTION);
    CHECK(isolation_parse("enclave-per-tenant", &m) == 0 && m == ISOLATION_TENANT);
    CHECK(isolation_parse("shared-enclave", &m) == 0 && m == ISOLATION_SHARED);
    CHECK(isolation_parse("unset", &m) < 0 && isolation_parse("", &m) < 0 && isolation_parse(NULL, &m) < 0);
    CHECK(isolation_parse("Shared-Enclave", &m) < 0 && isolation_parse("shared-enclave ", &m) < 0);
    CHECK(strcmp(isolation_name(ISOLATION_TENANT), "enclave-per-tenant") == 0);
    CHECK(strcmp(isolation_name((isolation_mode)42), "unknown") == 0);

    CHECK(isolation_effective(ISOLATION_TENANT, ISOLATION_UNSET) == ISOLATION_TENANT);
    CHECK(isolation_effective(ISOLATION_TENANT, ISOLATION_FUNCTION) == ISOLATION_FUNCTION);
    CHECK(isolation_effective(ISOLATION_TENANT, ISOLATION_SHARED) == ISOLATION_TENANT);
    char err[512] = "";
    CHECK(isolation_check_request(ISOLATION_TENANT, ISOLATION_FUNCTION, err, sizeof err) == 0);
    CHECK(isolation_check_request(ISOLATION_SHARED, ISOLATION_TENANT, err, sizeof err) == 0);
    CHECK(isolation_check_request(ISOLATION_FUNCTION, ISOLATION_UNSET, err, sizeof err) == 0);
    CHECK(isolation_check_request(ISOLATION_FUNCTION, ISOLATION_FUNCTION, err, sizeof err) == 0);
    CHECK(isolation_check_request(ISOLATION_TENANT, ISOLATION_SHARED, err, sizeof err) < 0);
    CHECK(strstr(err, "shared-enclave") && strstr(err, "weaker") && strstr(err, "enclave-per-tenant"));

    char k[64];
    CHECK(isolation_unit_key(ISOLATION_FUNCTION, "ns", "ns/a@b@0.0.2", k, sizeof k) == 0 &&
          strcmp(k, "function:ns/a@b") == 0); /* every revision of a@b shares it */
    CHECK(isolation_unit_key(ISOLATION_TENANT, "ns", "ns/a@1", k, sizeof k) == 0 && strcmp(k, "tenant:ns") == 0);
    CHECK(isolation_unit_key(ISOLATION_SHARED, "ns", "ns/a@1", k, sizeof k) == 0 && strcmp(k, "shared") == 0);
    CHECK(isolation_unit_key(ISOLATION_UNSET, "ns", "ns/a@1", k, sizeof k) < 0);
    CHECK(isolation_unit_key(ISOLATION_TENANT, "ns", "ns/a@1", k, 5) < 0);

    size_t len = 0;
    const char *ns = isolation_unit_ns("tenant:bob#00ff", &len);
    CHECK(ns && len == 8 && strncmp(ns, "bob#00ff", len) == 0);
    ns = isolation_unit_ns("function:bob#00ff/a@b", &len);
    CHECK(ns && len == 8 && strncmp(ns, "bob#00ff", len) == 0);
    CHECK(isolation_unit_ns("shared", &len) == NULL && isolation_unit_ns("tenant", &len) == NULL);
    CHECK(isolation_fn_ns_len("bob#1/a@1") == 5 && isolation_fn_ns_len("bob") == 3);
    CHECK(isolation_unit_mode("function:bob#00ff/a@b") == ISOLATION_FUNCTION);
    CHECK(isolation_unit_mode("tenant:bob#00ff") == ISOLATION_TENANT);
    CHECK(isolation_unit_mode("shared") == ISOLATION_SHARED);
    CHECK(isolation_unit_mode("sharedx") == ISOLATION_UNSET && isolation_unit_mode("") == ISOLATION_UNSET &&
          isolation_unit_mode("function") == ISOLATION_UNSET);
}

/* Runs HELLO as ns/name@ver (isolation request `req`) and returns the pid
 * of the enclave it ran in under the effective mode `eff`. */
static pid_t pid_after(scheduler *s, const char *ns, const char *name, const char *ver, isolation_mode req,
                       isolation_mode eff) {
    char key[256], unit[SCHED_UNIT_TEST_MAX];
    snprintf(key, sizeof key, "%s/%s@%s", ns, name, ver);
    waiter w;
    sched_job j = job(ns, key, HELLO, "{}");
    j.isolation = req;
    int ok = run(s, &j, &w) == 1 && w.res.status == TFAAS_STATUS_SUCCESS;
    waiter_fini(&w);
    if (!ok || isolation_unit_key(eff, ns, key, unit, sizeof unit) < 0) return -1;
    return scheduler_enclave_pid(s, unit);
}

static void test_modes(void) {
    /* enclave-per-function: a process per function name, revisions share it */
    scheduler *s = make_mode(0, 4, ISOLATION_FUNCTION, 0);
    CHECK(s != NULL);
    if (!s) return;
    pid_t a1 = pid_after(s, "m1", "a", "1", ISOLATION_UNSET, ISOLATION_FUNCTION);
    pid_t a2 = pid_after(s, "m1", "a", "2", ISOLATION_UNSET, ISOLATION_FUNCTION);
    pid_t b = pid_after(s, "m1", "b", "1", ISOLATION_UNSET, ISOLATION_FUNCTION);
    /* a request for a weaker mode gets the server's */
    pid_t c = pid_after(s, "m1", "c", "1", ISOLATION_SHARED, ISOLATION_FUNCTION);
    CHECK(a1 > 0 && a1 == a2 && b > 0 && b != a1 && c > 0 && c != a1 && c != b);
    sched_stats st;
    scheduler_stats(s, &st);
    CHECK(st.enclaves == 3 && st.enclaves_started == 3);
    scheduler_destroy(s);

    /* shared-enclave: one process for every namespace; a function asking for
     * its own enclave gets one */
    s = make_mode(0, 4, ISOLATION_SHARED, 0);
    CHECK(s != NULL);
    if (!s) return;
    pid_t x = pid_after(s, "m2a", "f", "1", ISOLATION_UNSET, ISOLATION_SHARED);
    pid_t y = pid_after(s, "m2b", "f", "1", ISOLATION_UNSET, ISOLATION_SHARED);
    pid_t t = pid_after(s, "m2b", "g", "1", ISOLATION_TENANT, ISOLATION_TENANT);
    pid_t own = pid_after(s, "m2b", "h", "1", ISOLATION_FUNCTION, ISOLATION_FUNCTION);
    CHECK(x > 0 && x == y && t > 0 && t != x && own > 0 && own != x && own != t);
    scheduler_stats(s, &st);
    CHECK(st.enclaves == 3);
    scheduler_destroy(s);
}

/* Runs functions a, b and c of namespaces na, nb and nc, one enclave each
 * (enclave-per-function), and checks that starting c's stopped the least
 * recently used idle one, a's, and kept b's. */
static void third_stops_first(scheduler *s, const char *na, const char *nb, const char *nc) {
    char unit_a[64], unit_b[64];
    snprintf(unit_a, sizeof unit_a, "function:%s/a", na);
    snprintf(unit_b, sizeof unit_b, "function:%s/b", nb);
    pid_t a = pid_after(s, na, "a", "1", ISOLATION_UNSET, ISOLATION_FUNCTION);
    pid_t b = pid_after(s, nb, "b", "1", ISOLATION_UNSET, ISOLATION_FUNCTION);
    pid_t c = pid_after(s, nc, "c", "1", ISOLATION_UNSET, ISOLATION_FUNCTION);
    CHECK(a > 0 && b > 0 && c > 0 && scheduler_enclave_pid(s, unit_a) == 0);
    CHECK(scheduler_enclave_pid(s, unit_b) == b);
}

/* Keeps two enclaves busy with j1 and j2 (each needing one of its own) and
 * checks that j3, needing a third, is refused at once with errno `refused`;
 * `meanwhile` (may be NULL) runs while they are busy; both must succeed. */
static void refused_while_busy(scheduler *s, sched_job j1, sched_job j2, sched_job j3, int refused,
                               void (*meanwhile)(scheduler *s)) {
    waiter w1, w2, w3;
    waiter_init(&w1);
    waiter_init(&w2);
    waiter_init(&w3);
    CHECK(scheduler_submit(s, &j1, on_done, &w1) == 0 && scheduler_submit(s, &j2, on_done, &w2) == 0);
    errno = 0;
    CHECK(scheduler_submit(s, &j3, on_done, &w3) == -1 && errno == refused);
    if (meanwhile) meanwhile(s);
    CHECK(waiter_wait(&w1) == 0 && w1.res.status == TFAAS_STATUS_SUCCESS);
    CHECK(waiter_wait(&w2) == 0 && w2.res.status == TFAAS_STATUS_SUCCESS);
    CHECK(w3.calls == 0);
    waiter_fini(&w1);
    waiter_fini(&w2);
    waiter_fini(&w3);
}

static void test_max_enclaves(void) {
    /* three namespaces, one function each: the namespace shares (2 / 3,
     * at least 1) leave the global limit to decide */
    scheduler *s = make_mode(0, 4, ISOLATION_FUNCTION, 2);
    CHECK(s != NULL);
    if (!s) return;
    third_stops_first(s, "m2", "m3", "m3c");
    sched_stats st;
    scheduler_stats(s, &st);
    CHECK(st.enclaves_evicted == 1 && st.enclaves_stopped == 1 && st.enclaves_died == 0);

    /* both enclaves busy: a fourth unit is refused with EBUSY, nothing waits;
     * new revisions: @1 of b and c is HELLO, warm in their enclaves */
    refused_while_busy(s, job("m3", "m3/b@2", SLOWER, "{}"), job("m3c", "m3c/c@2", SLOWER, "{}"),
                       job("m3d", "m3d/d@1", HELLO, "{}"), EBUSY, NULL);
    scheduler_stats(s, &st);
    CHECK(st.enclaves_refused == 1);
    /* idle again: d gets room */
    CHECK(pid_after(s, "m3d", "d", "1", ISOLATION_UNSET, ISOLATION_FUNCTION) > 0);
    scheduler_destroy(s);
}

static void next_tenant_gets_one(scheduler *s) {
    CHECK(pid_after(s, "f2", "e", "1", ISOLATION_UNSET, ISOLATION_FUNCTION) > 0);
}

/* One namespace cannot take every enclave: alone under max_enclaves 4 it
 * holds at most 4 / (1 + 1) = 2, replaces its own idle ones past that, and
 * is refused (EDQUOT) when both are busy, while another namespace still
 * gets one. Without max_enclaves the per-namespace limit holds alone. */
static void test_fair_share(void) {
    scheduler *s = make_share(ISOLATION_FUNCTION, 4, 0);
    CHECK(s != NULL);
    if (!s) return;
    third_stops_first(s, "f1", "f1", "f1");
    refused_while_busy(s, job("f1", "f1/b@2", SLOWER, "{}"), job("f1", "f1/c@2", SLOWER, "{}"),
                       job("f1", "f1/d@1", HELLO, "{}"), EDQUOT, next_tenant_gets_one);
    sched_stats st;
    scheduler_stats(s, &st);
    CHECK(st.share_refused == 1 && st.enclaves_refused == 0);
    scheduler_destroy(s);

    s = make_share(ISOLATION_FUNCTION, 0, 1);
    CHECK(s != NULL);
    if (!s) return;
    waiter w1, w2;
    waiter_init(&w1);
    waiter_init(&w2);
    sched_job j1 = job("f3", "f3/a@1", SLOWER, "{}");
    CHECK(scheduler_submit(s, &j1, on_done, &w1) == 0);
    sched_job j2 = job("f3", "f3/b@1", HELLO, "{}");
    errno = 0;
    CHECK(scheduler_submit(s, &j2, on_done, &w2) == -1 && errno == EDQUOT);
    CHECK(pid_after(s, "f4", "a", "1", ISOLATION_UNSET, ISOLATION_FUNCTION) > 0);
    CHECK(waiter_wait(&w1) == 0 && w1.res.status == TFAAS_STATUS_SUCCESS);
    waiter_fini(&w1);
    waiter_fini(&w2);
    scheduler_destroy(s);
}

static int waiter_has(waiter *w, tfaas_status st, int not_run, const char *text) {
    return waiter_wait(w) == 0 && w->res.status == st && w->res.not_run == not_run &&
           strstr(w->res.result_json, text) != NULL;
}

/* A retired namespace: its queued work ends unrun, its enclave is killed
 * (what ran there fails), it is no longer listed; others go on. */
static void test_retire(void) {
    waiter w1, w2, w3;
    scheduler *s = running_and_queued("r1#aa", &w1, &w2);
    if (!s) return;
    waiter_init(&w3);
    sched_job other = job("r2#bb", "r2#bb/slow@1", SLOWER, "{}");
    CHECK(scheduler_submit(s, &other, on_done, &w3) == 0);
    pid_t pid = scheduler_enclave_pid(s, "tenant:r1#aa");
    size_t n = 0;
    char **names = scheduler_namespaces(s, &n);
    CHECK(n == 2 && names && (strcmp(names[0], "r1#aa") == 0 || strcmp(names[1], "r1#aa") == 0));
    for (size_t i = 0; i < n; i++) free(names[i]);
    free(names);
    CHECK(pid > 0 && scheduler_retire(s, "r1#aa") == 2); /* the queued one and the enclave */
    CHECK(waiter_has(&w2, TFAAS_STATUS_INTERNAL_ERR, 1, "The namespace was deleted."));
    CHECK(waiter_wait(&w1) == 0 && w1.res.status != TFAAS_STATUS_SUCCESS && !w1.res.not_run);
    CHECK(waiter_has(&w3, TFAAS_STATUS_SUCCESS, 0, "ok"));
    CHECK(scheduler_enclave_pid(s, "tenant:r1#aa") == 0);
    names = scheduler_namespaces(s, &n);
    for (size_t i = 0; i < n; i++) {
        CHECK(strcmp(names[i], "r1#aa") != 0);
        free(names[i]);
    }
    free(names);
    CHECK(scheduler_retire(s, "r1#aa") == 0); /* nothing left of it */

    /* retired while its enclave is still starting: stopped once launched,
     * not left running with nothing to stop it */
    waiter w4;
    waiter_init(&w4);
    sched_job fresh = job("r3#cc", "r3#cc/hello@1", HELLO, "{}");
    CHECK(scheduler_submit(s, &fresh, on_done, &w4) == 0);
    CHECK(scheduler_retire(s, "r3#cc") >= 1);
    CHECK(waiter_wait(&w4) == 0 && w4.res.status != TFAAS_STATUS_SUCCESS);
    sched_stats st = {0};
    for (unsigned waited = 0; waited < WAIT_MS; waited += 10) {
        scheduler_stats(s, &st);
        if (st.enclaves == 1) break; /* r2's */
        sleep_ms(10);
    }
    CHECK(st.enclaves == 1 && scheduler_enclave_pid(s, "tenant:r3#cc") == 0);
    waiter_fini(&w1);
    waiter_fini(&w2);
    waiter_fini(&w3);
    waiter_fini(&w4);
    scheduler_destroy(s);
}

/* Quiesced: waiting work ends unrun (queued here at once; waiting in its
 * enclave's lane once the enclave confirms the cancel, long before the
 * running one could finish), running work completes, nothing new is
 * accepted. */
static void test_quiesce(void) {
    waiter w1, w2;
    scheduler *s = running_and_queued("q1", &w1, &w2);
    if (!s) return;
    scheduler_quiesce(s);
    sched_job j = job("q1", "q1/slower@1", SLOWER, "{}");
    CHECK(waiter_wait(&w2) == 0 && w2.res.not_run && strstr(w2.res.result_json, "did not run"));
    CHECK(w1.calls == 0); /* w2 was not run after w1: it was cancelled while w1 ran */
    errno = 0;
    CHECK(scheduler_submit(s, &j, on_done, &w2) == -1 && errno == ESHUTDOWN);
    CHECK(waiter_has(&w1, TFAAS_STATUS_SUCCESS, 0, "ok"));
    waiter_fini(&w1);
    waiter_fini(&w2);
    scheduler_destroy(s);
}

/* ---- the shared enclave's lanes (lane_share.c) ------------------------- */

#define SLOWEST "function main(){var t=Date.now(); while(Date.now()-t<5000){} return {ok:true}}"
#define SECOND "function main(){var t=Date.now(); while(Date.now()-t<1000){} return {ok:true}}"

/* Polls the stats until `running` run and `queued` wait (on the host or in
 * lanes); 0 when they do within WAIT_MS. */
static int wait_counts(scheduler *s, unsigned running, unsigned queued) {
    sched_stats st = {0};
    for (unsigned waited = 0; waited < WAIT_MS; waited += 10) {
        scheduler_stats(s, &st);
        if (st.running == running && st.queued == queued && st.pending == 0) return 0;
        sleep_ms(10);
    }
    fprintf(stderr, "wait_counts: running %u queued %u pending %u, wanted %u and %u\n", st.running, st.queued,
            st.pending, running, queued);
    return -1;
}

/* Shared-enclave mode, two workers per enclave. */
static scheduler *make_shared(void) {
    scheduler *s = make_mode(0, 8, ISOLATION_SHARED, 0);
    CHECK(s != NULL);
    return s;
}

/* Shared enclave: a retired namespace's activations waiting in their lane
 * end unrun ("The namespace was deleted.") long before the one that runs
 * ends, none of them runs; the one running finishes (the process is not
 * killed); another namespace's work goes on in the same process. */
static void test_shared_retire_lanes(void) {
    scheduler *s = make_shared();
    if (!s) return;
    waiter run1, behind[3], other;
    sched_job j = job("sr#aa", "sr#aa/slowest@1", SLOWEST, "{}");
    j.timeout_ms = 20000;
    waiter_init(&run1);
    CHECK(scheduler_submit(s, &j, on_done, &run1) == 0);
    for (int i = 0; i < 3; i++) {
        waiter_init(&behind[i]);
        CHECK(scheduler_submit(s, &j, on_done, &behind[i]) == 0);
    }
    CHECK(wait_counts(s, 1, 3) == 0); /* one runs, three wait in its lane */
    pid_t pid = scheduler_enclave_pid(s, "shared");
    CHECK(pid > 0 && scheduler_retire(s, "sr#aa") >= 3);
    for (int i = 0; i < 3; i++) CHECK(waiter_has(&behind[i], TFAAS_STATUS_INTERNAL_ERR, 1, "The namespace was deleted."));
    CHECK(run1.calls == 0); /* they ended while the first still ran: taken out of the lane */
    sched_job hello = job("sr#bb", "sr#bb/hello@1", HELLO, "{\"name\":\"b\"}");
    CHECK(run(s, &hello, &other) == 1 && other.res.status == TFAAS_STATUS_SUCCESS);
    CHECK(waiter_has(&run1, TFAAS_STATUS_SUCCESS, 0, "ok")); /* it ran before the retire */
    CHECK(scheduler_enclave_pid(s, "shared") == pid);
    sched_stats st;
    scheduler_stats(s, &st);
    CHECK(st.running == 0 && st.queued == 0 && st.pending == 0);
    for (int i = 0; i < 3; i++) waiter_fini(&behind[i]);
    waiter_fini(&run1);
    waiter_fini(&other);
    scheduler_destroy(s);
}

/* Shared enclave: one namespace keeps both workers busy and eight more
 * activations waiting in its lane; another namespace's activation gets the
 * first worker that frees (the waiting ones yield, lane_share.c), not the
 * one after the whole lane; the yielded ones are sent again and all
 * succeed. */
static void test_shared_fair(void) {
    scheduler *s = make_shared();
    if (!s) return;
    enum { HOG = 10 };
    waiter hog[HOG], w;
    sched_job j = job("sf#hh", "sf#hh/second@1", SECOND, "{}");
    j.concurrency = 2; /* both workers */
    for (int i = 0; i < HOG; i++) {
        waiter_init(&hog[i]);
        CHECK(scheduler_submit(s, &j, on_done, &hog[i]) == 0);
    }
    CHECK(wait_counts(s, 2, HOG - 2) == 0);
    sched_stats st0;
    scheduler_stats(s, &st0);
    sched_job hello = job("sf#ww", "sf#ww/hello@1", HELLO, "{\"name\":\"w\"}");
    CHECK(run(s, &hello, &w) == 1 && w.res.status == TFAAS_STATUS_SUCCESS);
    unsigned before = 0;
    for (int i = 0; i < HOG; i++) {
        CHECK(waiter_has(&hog[i], TFAAS_STATUS_SUCCESS, 0, "ok"));
        before += hog[i].done_us < w.done_us;
    }
    /* the two running when it came (either may end first), not the lane */
    CHECK(before <= 2);
    sched_stats st1;
    scheduler_stats(s, &st1);
    CHECK(st1.lane_yields > st0.lane_yields);
    for (int i = 0; i < HOG; i++) waiter_fini(&hog[i]);
    waiter_fini(&w);
    scheduler_destroy(s);
}

/* Shared enclave killed while two namespaces each run one activation and
 * have two waiting in their lanes: the running ones fail, the waiting ones
 * never ran and succeed on the next enclave. */
static void test_shared_crash(void) {
    scheduler *s = make_shared();
    if (!s) return;
    const char *ns[2] = {"sc#aa", "sc#bb"}, *key[2] = {"sc#aa/slower@1", "sc#bb/slower@1"};
    waiter w[2][3];
    for (int t = 0; t < 2; t++) {
        sched_job j = job(ns[t], key[t], SLOWER, "{}");
        for (int i = 0; i < 3; i++) {
            waiter_init(&w[t][i]);
            CHECK(scheduler_submit(s, &j, on_done, &w[t][i]) == 0);
        }
    }
    CHECK(wait_counts(s, 2, 4) == 0);
    pid_t pid = scheduler_enclave_pid(s, "shared");
    CHECK(pid > 0 && kill(pid, SIGKILL) == 0);
    for (int t = 0; t < 2; t++) {
        CHECK(waiter_wait(&w[t][0]) == 0 && w[t][0].res.status == TFAAS_STATUS_DEVELOPER_ERR);
        CHECK(w[t][0].res.result_json && strstr(w[t][0].res.result_json, "exited unexpectedly"));
        for (int i = 1; i < 3; i++) CHECK(waiter_has(&w[t][i], TFAAS_STATUS_SUCCESS, 0, "ok"));
    }
    pid_t pid2 = scheduler_enclave_pid(s, "shared");
    CHECK(pid2 > 0 && pid2 != pid);
    for (int t = 0; t < 2; t++)
        for (int i = 0; i < 3; i++) waiter_fini(&w[t][i]);
    scheduler_destroy(s);
}

/* The nice value of pid's autogroup ("/autogroup-N nice V"); -100 when it
 * cannot be read. */
static int autogroup_nice(pid_t pid) {
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/%d/autogroup", (int)pid);
    FILE *f = fopen(path, "r");
    if (!f) return -100;
    int nice = -100;
    if (fgets(line, sizeof line, f)) {
        const char *p = strstr(line, " nice ");
        if (p) nice = atoi(p + 6);
    }
    fclose(f);
    return nice;
}

/* An enclave whose activation runs past background_after_ms keeps normal
 * priority while it has the server to itself, goes to nice 19 while another
 * tenant's enclave has short work, and comes back to 0 when it finishes.
 * Each enclave leads a session (and so an autogroup) of its own. */
static void test_background_priority(void) {
    char why[256];
    int avail = cpu_priority_available(why, sizeof why);
    CHECK(avail ? why[0] == '\0' : why[0] != '\0');
    if (autogroup_nice(getpid()) == -100) {
        fprintf(stderr, "test_background_priority: no /proc/PID/autogroup on this kernel, skipped\n");
        return;
    }
    scheduler_config cfg = {.enclave_path = enclave_path, .workers = 2, .max_queue = 8, .kill_grace_ms = 1000,
                            .background_after_ms = 30};
    scheduler *s = make_cfg(&cfg);
    CHECK(s != NULL);
    if (!s) return;
    CHECK(scheduler_background_after_ms(s) == 30);
    waiter calm, busy;
    sched_job hello = job("calm", "calm/hello@1", HELLO, "{\"name\":\"x\"}");
    CHECK(run(s, &hello, &calm) == 1 && calm.res.status == TFAAS_STATUS_SUCCESS);
    waiter_fini(&calm);
    sleep_ms(250); /* calm's hello is no longer recent work */
    sched_job slow = job("busy", "busy/slow@1", SLOWER, "{}");
    waiter_init(&busy);
    CHECK(scheduler_submit(s, &slow, on_done, &busy) == 0);
    /* until its enclave is up: a launch can take long on a loaded machine */
    pid_t busy_pid = 0;
    for (unsigned waited = 0; waited < WAIT_MS && !(busy_pid = scheduler_enclave_pid(s, "tenant:busy")); waited += 10)
        sleep_ms(10);
    pid_t calm_pid = scheduler_enclave_pid(s, "tenant:calm");
    CHECK(calm_pid > 0 && busy_pid > 0 && calm_pid != busy_pid);
    CHECK(getsid(busy_pid) == busy_pid && getsid(calm_pid) == calm_pid);
    /* Alone on the server, the long activation keeps its priority. */
    CHECK(autogroup_nice(busy_pid) == 0);
    sched_stats st;
    scheduler_stats(s, &st);
    CHECK(st.backgrounded == 0);
    /* The other tenant's quick requests make it yield, within a few ticks. */
    int seen_background = 0, calm_nice = 0;
    for (int i = 0; i < 400 && !seen_background; i++) {
        CHECK(run(s, &hello, &calm) == 1 && calm.res.status == TFAAS_STATUS_SUCCESS);
        waiter_fini(&calm);
        seen_background = autogroup_nice(busy_pid) == CPU_PRIORITY_BACKGROUND_NICE;
        calm_nice |= autogroup_nice(calm_pid);
        sleep_ms(1);
    }
    CHECK(seen_background);
    CHECK(calm_nice == 0);
    /* Each move to the background counts; on a loaded machine the other
     * tenant's work can stop being recent between two of its requests, so
     * the enclave may go back and forth more than once. */
    scheduler_stats(s, &st);
    CHECK(st.backgrounded >= 1);
    CHECK(waiter_wait(&busy) == 0 && busy.res.status == TFAAS_STATUS_SUCCESS);
    sleep_ms(100); /* a few watchdog ticks */
    CHECK(autogroup_nice(busy_pid) == 0);
    waiter_fini(&busy);
    scheduler_destroy(s);
}

int main(void) {
    const char *bin = getenv("TFAAS_BIN");
    snprintf(enclave_path, sizeof enclave_path, "%s/tfaas-enclave", bin ? bin : "bin");
    test_bad_input();
    test_isolation_pure();
    test_modes();
    test_max_enclaves();
    test_fair_share();
    test_retire();
    test_quiesce();
    test_shared_retire_lanes();
    test_shared_fair();
    test_shared_crash();
    scheduler *s = make(0, 8);
    CHECK(s != NULL);
    if (s) {
        test_hello_and_code_cache(s);
        test_namespaces(s);
        test_concurrency(s);
        test_timeout(s);
        test_enclave_killed(s);
        test_lane_survives_kill(s);
        scheduler_destroy(s);
    }
    test_queue_bound();
    test_idle_eviction();
    test_destroy_in_flight();
    test_launch_failure();
    test_background_priority();
    return CHECK_DONE();
}
