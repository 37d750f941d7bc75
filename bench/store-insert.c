/* store-insert.c - what the store costs per activation record, without the
 * server around it (issue 14): hello-sized records, written as the gateway
 * writes them (text and list entry, store_activation_put_text), committed
 * in sections of BURST as an enclave's reader thread does, into the state
 * directory DIR after PREFILL such records. Prints the timed part's CPU
 * time of the committing thread per record and the bytes the process
 * wrote (wchar: WAL appends and the writer thread's checkpoints). Built and
 * run by bench/store-insert.sh, which also counts instructions (callgrind).
 * usage: store-insert DIR PREFILL COUNT [BURST (30)] */
#include "host/store/store.h"
#include "host/util/ids.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The hello's record of `make bench`, cut where the gateway cuts it. */
static const char HEAD[] = "{\"namespace\":\"guest\",\"name\":\"hello\",\"version\":\"0.0.1\",\"subject\":\"guest\","
                           "\"activationId\":\"%s\",\"start\":%lld,\"end\":%lld,\"duration\":0,\"statusCode\":0";
static const char CUT[] = ",\"response\":{\"status\":\"success\",\"statusCode\":0,\"success\":true,"
                          "\"result\":{\"greeting\":\"Hello, bench!\"}},\"logs\":[]";
static const char TAIL[] = ",\"annotations\":[{\"key\":\"path\",\"value\":\"guest/hello\"},{\"key\":\"kind\",\"value\":"
                           "\"js:duktape\"},{\"key\":\"limits\",\"value\":{\"timeout\":60000,\"memory\":256,\"logs\":10,"
                           "\"concurrency\":1}},{\"key\":\"waitTime\",\"value\":7},{\"key\":\"initTime\",\"value\":0},"
                           "{\"key\":\"timeout\",\"value\":false}],\"publish\":false}";

static long long now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

static double thread_cpu_s(void) {
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static long long wchar(void) {
    FILE *f = fopen("/proc/self/io", "r");
    char key[64];
    long long v, w = 0;
    while (f && fscanf(f, "%63s %lld", key, &v) == 2)
        if (!strcmp(key, "wchar:")) w = v;
    if (f) fclose(f);
    return w;
}

static int failures;
static void committed(void *ud, store_status st) {
    (void)ud;
    if (st != STORE_OK) failures++;
}

static int put(store *s, const char *ns_id) {
    char id[33], head[512];
    if (ids_activation(id) < 0) return -1;
    long long t = now_ms();
    size_t hl = (size_t)snprintf(head, sizeof head, HEAD, id, t, t), cl = strlen(CUT), tl = strlen(TAIL);
    store_record_text *r = calloc(1, sizeof *r);
    if (!r || !(r->text = malloc(hl + cl + tl + 1)) || !(r->summary = malloc(hl + tl + 1))) return -1;
    memcpy(r->text, head, hl);
    memcpy(r->text + hl, CUT, cl);
    memcpy(r->text + hl + cl, TAIL, tl + 1);
    memcpy(r->summary, head, hl);
    memcpy(r->summary + hl, TAIL, tl + 1);
    *r = (store_record_text){.text = r->text, .summary = r->summary, .text_len = hl + cl + tl, .cut_at = hl,
                             .cut_len = cl, .id = strdup(id), .ns = strdup("guest"), .name = strdup("hello"),
                             .start = t, .end = t};
    store_activation_put_text(s, r, ns_id, committed, NULL);
    return 0;
}

static int commit_records(store *s, const char *ns_id, long count, long burst) {
    for (long i = 0; i < count; i += burst) {
        store_activation_section_begin(s);
        for (long j = 0; j < burst; j++)
            if (put(s, ns_id) < 0) return -1;
        store_activation_section_end(s);
    }
    return 0;
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: store-insert DIR PREFILL COUNT [BURST (30)]\n");
        return 2;
    }
    long prefill = atol(argv[2]), count = atol(argv[3]), burst = argc > 4 ? atol(argv[4]) : 30;
    if (burst < 1) burst = 1;
    store *s = NULL;
    char *err = NULL, uuid[STORE_UUID_LEN + 1], key[STORE_KEY_LEN + 1], ns_id[STORE_NSID_LEN + 1];
    if (store_open(argv[1], &s, &err) != STORE_OK) {
        fprintf(stderr, "store-insert: %s\n", err ? err : "cannot open the store");
        return 1;
    }
    /* serve's default retention: 512 MiB per namespace, checked as it does */
    store_set_retention(s, &(store_retention){.max_bytes = 512LL << 20});
    store_namespace_create(s, "guest", NULL, NULL, uuid, key); /* exists already on a second run */
    if (store_namespace_id(s, "guest", ns_id) != STORE_OK || commit_records(s, ns_id, prefill, burst) < 0) {
        fprintf(stderr, "store-insert: %s\n", store_last_error());
        return 1;
    }
    double cpu0 = thread_cpu_s();
    long long w0 = wchar();
    if (commit_records(s, ns_id, count, burst) < 0) return 1;
    double cpu1 = thread_cpu_s();
    long long w1 = wchar();
    if (count)
        printf("committing thread: %.2f us CPU per record; %lld bytes written per record; %d failed\n",
               (cpu1 - cpu0) * 1e6 / (double)count, (w1 - w0) / count, failures);
    store_close(s);
    return failures != 0;
}
