/* test_metrics.c - the metrics registry (host/metrics/metrics.h): counters by
 * (namespace, action, status), the cardinality cap, confidential calls
 * counted without status or durations, histogram buckets, label escaping,
 * and concurrent hooks from several threads. */
#include "check.h"

#include "common/ipc.h"
#include "host/metrics/metrics.h"

#include <pthread.h>
#include <stdlib.h>

static char *render(void) {
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    metrics_render(f);
    fclose(f);
    return text;
}

/* Each of the NULL-terminated lines appears in the rendered text. */
static void expect_lines(const char *const *lines) {
    char *t = render();
    for (; *lines; lines++) {
        if (strstr(t, *lines)) check_passed++;
        else check_failed++, fprintf(stderr, "%s: missing: %s", __FILE__, *lines);
    }
    free(t);
}

static void test_counts(void) {
    metrics_reset();
    metrics_activation("guest", "hello", TFAAS_STATUS_SUCCESS, 1, 100, 0, 2000);
    metrics_activation("guest", "hello", TFAAS_STATUS_SUCCESS, 1, 100, 0, 2000);
    metrics_activation("guest", "hello", TFAAS_STATUS_DEVELOPER_ERR, 1, 100, 5000, 2000);
    metrics_activation("guest", "hello", 77, 0, 0, 0, 0); /* unknown status: internal error; not run */
    expect_lines((const char *const[]){
        "tfaas_activations_total{namespace=\"guest\",action=\"hello\",status=\"success\"} 2\n",
        "tfaas_activations_total{namespace=\"guest\",action=\"hello\",status=\"developer_error\"} 1\n",
        "status=\"whisk_internal_error\"} 1\n",
        /* 3 ran: the not-run one adds nothing to the histograms */
        "tfaas_activation_run_seconds_count 3\n",
        "tfaas_activation_run_seconds_bucket{le=\"0.001\"} 0\n",
        "tfaas_activation_run_seconds_bucket{le=\"0.0025\"} 3\n",
        "tfaas_activation_run_seconds_sum 0.006\n",
        "tfaas_activation_init_seconds_bucket{le=\"0.005\"} 3\n",
        "tfaas_activation_init_seconds_bucket{le=\"0.0001\"} 2\n",
        "# TYPE tfaas_activations_total counter\n",
        NULL});
}

static void test_confidential(void) {
    metrics_reset();
    metrics_confidential("tenant", "secret");
    char *t = render();
    CHECK(strstr(t, "tfaas_confidential_activations_total{namespace=\"tenant\",action=\"secret\"} 1\n"));
    CHECK(!strstr(t, "action=\"secret\",status="));   /* no status of it */
    CHECK(strstr(t, "tfaas_activation_run_seconds_count 0\n")); /* nor a duration */
    CHECK(strstr(t, "tfaas_activation_wait_seconds_count 0\n"));
    free(t);
}

static void test_cap(void) {
    metrics_reset();
    char name[32];
    for (int i = 0; i < METRICS_MAX_ACTIONS + 10; i++) {
        snprintf(name, sizeof name, "a%d", i);
        metrics_activation("ns", name, TFAAS_STATUS_SUCCESS, 1, 0, 0, 0);
    }
    char huge[600];
    memset(huge, 'x', sizeof huge - 1);
    huge[sizeof huge - 1] = '\0';
    metrics_activation("ns", "a0", TFAAS_STATUS_SUCCESS, 1, 0, 0, 0); /* an existing pair still counts as itself */
    char *t = render();
    CHECK(strstr(t, "{namespace=\"ns\",action=\"a0\",status=\"success\"} 2\n"));
    CHECK(strstr(t, "{namespace=\"_other\",action=\"_other\",status=\"success\"} 10\n"));
    size_t series = 0;
    for (const char *p = t; (p = strstr(p, "tfaas_activations_total{")); p++) series++;
    CHECK(series == METRICS_MAX_ACTIONS + 1);
    free(t);
    metrics_reset();
    metrics_activation(huge, "a", TFAAS_STATUS_SUCCESS, 1, 0, 0, 0); /* too long for a slot: _other */
    t = render();
    CHECK(strstr(t, "{namespace=\"_other\",action=\"_other\",status=\"success\"} 1\n"));
    free(t);
}

static void test_escaping_and_releases(void) {
    metrics_reset();
    metrics_activation("n\"s", "a\\b\nc", TFAAS_STATUS_SUCCESS, 1, 0, 0, 0);
    metrics_key_release(KMS_OK);
    metrics_key_release(KMS_ERR_POLICY);
    metrics_key_release(999);
    metrics_store_commit(1500, 3);
    metrics_refusal(METRICS_REFUSED_QUEUE);
    metrics_refusal((metrics_refusal_reason)42);
    metrics_store_checkpoint(METRICS_CHECKPOINT_BACKGROUND);
    metrics_store_checkpoint(METRICS_CHECKPOINT_BACKGROUND);
    metrics_store_checkpoint(METRICS_CHECKPOINT_BLOCKING);
    metrics_store_checkpoint((metrics_checkpoint_kind)9); /* not a kind: ignored */
    CHECK(metrics_store_checkpoints(METRICS_CHECKPOINT_BACKGROUND) == 2);
    CHECK(metrics_store_checkpoints((metrics_checkpoint_kind)9) == 0);
    expect_lines((const char *const[]){
        "tfaas_store_checkpoints_total{kind=\"background\"} 2\n",
        "tfaas_store_checkpoints_total{kind=\"tail\"} 0\n",
        "tfaas_store_checkpoints_total{kind=\"blocking\"} 1\n",
        "tfaas_activations_refused_total{reason=\"queue_full\"} 1\n",
        "tfaas_activations_refused_total{reason=\"other\"} 1\n",
        "tfaas_activations_refused_total{reason=\"enclaves_busy\"} 0\n",
        "{namespace=\"n\\\"s\",action=\"a\\\\b\\nc\",status=\"success\"} 1\n",
        "tfaas_key_releases_total{outcome=\"released\"} 1\n",
        "tfaas_key_releases_total{outcome=\"policy\"} 1\n",
        "tfaas_key_releases_total{outcome=\"other\"} 1\n",
        "tfaas_store_commit_batch_size_bucket{le=\"4\"} 1\n",
        "tfaas_store_commit_batch_size_sum 3\n",
        "tfaas_store_commit_seconds_sum 0.0015\n",
        NULL});
}

/* Threads racing to create the same and different series: each event
 * counted once, each pair in one slot. */
#define THREADS 4
#define EVENTS 20000
static void *hammer(void *arg) {
    char name[16];
    for (int i = 0; i < EVENTS; i++) {
        snprintf(name, sizeof name, "f%d", i % 50);
        metrics_activation((const char *)arg, name, TFAAS_STATUS_SUCCESS, 1, 1, 1, 1);
    }
    return NULL;
}

static void test_threads(void) {
    metrics_reset();
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, hammer, "same");
    for (int i = 0; i < THREADS; i++) pthread_join(t[i], NULL);
    char *text = render();
    char want[128];
    snprintf(want, sizeof want, "{namespace=\"same\",action=\"f7\",status=\"success\"} %d\n", THREADS * EVENTS / 50);
    CHECK(strstr(text, want));
    size_t series = 0;
    for (const char *p = text; (p = strstr(p, "namespace=\"same\",action=\"f7\",")); p++) series++;
    CHECK(series == 1);
    snprintf(want, sizeof want, "tfaas_activation_run_seconds_count %d\n", THREADS * EVENTS);
    CHECK(strstr(text, want));
    free(text);
}

int main(void) {
    test_counts();
    test_confidential();
    test_cap();
    test_escaping_and_releases();
    test_threads();
    return CHECK_DONE();
}
