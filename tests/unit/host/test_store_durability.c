/* test_store_durability.c - what happens when things go wrong: a process
 * killed with SIGKILL in the middle of writing keeps every write it had
 * acknowledged; a database that refuses writes (read-only, full disk) gives
 * STORE_ERROR to the caller and stays intact. */
#include "check.h"
#include "host/store/store.h"
#include "host/store/store_internal.h"
#include "test_store_helpers.h"

#include <signal.h>
#include <stdatomic.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>

#define KILL_ACTIONS 40
#define KILL_AFTER_ACKS 3000 /* the child dies while more records are in flight */

static int ack_fd = -1;
static atomic_int acks;

/* Child side: report the acknowledged id to the parent, die mid-stream. */
static void on_ack(void *ud, store_status st) {
    if (st != STORE_OK) return;
    char line[64];
    int n = snprintf(line, sizeof line, "V %s\n", (const char *)ud);
    if (write(ack_fd, line, (size_t)n) != n) _exit(3);
    if (atomic_fetch_add(&acks, 1) + 1 == KILL_AFTER_ACKS) raise(SIGKILL);
}

static void kill_child(const char *dir) {
    store *s = NULL;
    char *err = NULL;
    if (store_open(test_store_target(dir), &s, &err) != STORE_OK) _exit(4);
    if (store_namespace_create(s, "k", NULL, NULL, NULL, NULL) != STORE_OK) _exit(5);
    json_t *doc = json_pack("{s:{s:s, s:s}}", "exec", "kind", "js:duktape", "code", "function main(){}");
    for (int i = 0; i < KILL_ACTIONS; i++) {
        char name[32], line[64];
        snprintf(name, sizeof name, "action-%d", i);
        if (store_action_put(s, "k", name, doc, 0, NULL) != STORE_OK) _exit(6);
        int n = snprintf(line, sizeof line, "A %s\n", name);
        if (write(ack_fd, line, (size_t)n) != n) _exit(3);
    }
    static char ids[1000000][16];
    for (int i = 0; i < 1000000; i++) {
        snprintf(ids[i], sizeof ids[i], "kill-%d", i);
        store_activation_put(s, make_activation("k", "f", ids[i], i + 1, "success"), NULL, on_ack, ids[i]);
    }
    _exit(7); /* not reached: SIGKILL arrives first */
}

static void test_kill9(void) {
    char *dir = scratch_dir("kill9");
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        ack_fd = fds[1];
        kill_child(dir);
    }
    close(fds[1]);
    FILE *in = fdopen(fds[0], "r");
    /* Everything the child acknowledged, in order. */
    size_t cap = 8192, n = 0;
    char **lines = malloc(cap * sizeof *lines);
    char buf[128];
    while (in && fgets(buf, sizeof buf, in)) {
        if (n == cap) lines = realloc(lines, (cap *= 2) * sizeof *lines);
        buf[strcspn(buf, "\n")] = 0;
        lines[n++] = strdup(buf);
    }
    if (in) fclose(in);
    int wst = 0;
    CHECK(waitpid(pid, &wst, 0) == pid);
    CHECK(WIFSIGNALED(wst) && WTERMSIG(wst) == SIGKILL);
    CHECK(n >= KILL_ACTIONS + KILL_AFTER_ACKS);

    CHECK(db_integrity_ok(dir));
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    free(err);
    int missing = 0;
    for (size_t i = 0; s && i < n; i++) {
        json_t *got = NULL;
        store_status st = lines[i][0] == 'A' ? store_action_get(s, "k", lines[i] + 2, &got)
                                             : store_activation_get(s, "k", lines[i] + 2, &got);
        if (st != STORE_OK) {
            if (missing++ < 5) fprintf(stderr, "lost after kill -9: %s\n", lines[i]);
        }
        json_decref(got);
    }
    CHECK(missing == 0);
    printf("kill -9: %zu acknowledged writes, %d lost\n", n, missing);
    store_close(s);
    CHECK(db_integrity_ok(dir));
    for (size_t i = 0; i < n; i++) free(lines[i]);
    free(lines);
    scratch_remove(dir);
}

static atomic_int ro_calls, ro_errors;
static void on_ro(void *ud, store_status st) {
    (void)ud;
    if (st == STORE_ERROR) atomic_fetch_add(&ro_errors, 1);
    atomic_fetch_add(&ro_calls, 1);
}

/* Writes refused by the database: every write call reports STORE_ERROR,
 * reads keep working, and nothing is damaged. */
static void check_writes_refused(store *s) {
    json_t *doc = json_pack("{s:{s:s, s:s}}", "exec", "kind", "js:duktape", "code", "x");
    CHECK(store_action_put(s, "r", "new", doc, 0, NULL) == STORE_ERROR);
    CHECK(store_last_error()[0] != '\0');
    CHECK(store_action_put(s, "r", "kept", doc, 1, NULL) == STORE_ERROR);
    json_decref(doc);
    CHECK(store_action_delete(s, "r", "kept", NULL) == STORE_ERROR);
    CHECK(store_namespace_create(s, "r2", NULL, NULL, NULL, NULL) == STORE_ERROR);
    CHECK(store_namespace_delete(s, "r") == STORE_ERROR);
    atomic_store(&ro_calls, 0);
    atomic_store(&ro_errors, 0);
    for (int i = 0; i < 10; i++) {
        char id[32];
        snprintf(id, sizeof id, "ro-%d", i);
        store_activation_put(s, make_activation("r", "f", id, 1, "success"), NULL, on_ro, NULL);
    }
    for (int i = 0; i < 3000 && atomic_load(&ro_calls) < 10; i++) usleep(1000);
    CHECK(atomic_load(&ro_calls) == 10 && atomic_load(&ro_errors) == 10);
    json_t *got = NULL;
    CHECK(store_action_get(s, "r", "kept", &got) == STORE_OK);
    json_decref(got);
}

static void test_read_only(void) {
    char *dir = scratch_dir("readonly");
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    CHECK(store_namespace_create(s, "r", NULL, NULL, NULL, NULL) == STORE_OK);
    json_t *doc = json_pack("{s:{s:s, s:s}}", "exec", "kind", "js:duktape", "code", "x");
    CHECK(store_action_put(s, "r", "kept", doc, 0, NULL) == STORE_OK);
    json_decref(doc);

    /* The test hook works for root too, where chmod would not stop writes. */
    CHECK(store_test_set_query_only(s, 1) == 0);
    check_writes_refused(s);
    CHECK(store_test_set_query_only(s, 0) == 0);
    doc = json_pack("{s:{s:s, s:s}}", "exec", "kind", "js:duktape", "code", "y");
    CHECK(store_action_put(s, "r", "after", doc, 0, NULL) == STORE_OK);
    json_decref(doc);
    store_close(s);

    if (geteuid() == 0 || test_store_pg()) {
        printf("skip: chmod read-only database check (root, or PostgreSQL); covered by the query_only hook\n");
    } else {
        /* A real read-only file in a read-only directory: opening may fail
         * (WAL needs its -shm file) or writes fail; never a crash. */
        CHECK(chmod(path_join(dir, "tfaas.db"), 0400) == 0);
        CHECK(chmod(dir, 0500) == 0);
        s = NULL;
        store_status st = store_open(test_store_target(dir), &s, &err);
        if (st == STORE_OK) {
            check_writes_refused(s);
            store_close(s);
        } else {
            CHECK(err && strstr(err, "tfaas.db"));
            free(err);
        }
        chmod(dir, 0700);
        chmod(path_join(dir, "tfaas.db"), 0600);
    }
    CHECK(db_integrity_ok(dir));
    scratch_remove(dir);
}

/* A full disk, simulated with RLIMIT_FSIZE (works as root too): in a child,
 * because the limit is per process. Exit 0 means all checks held there. */
static atomic_int full_ok, full_err, full_calls;
static void on_full(void *ud, store_status st) {
    (void)ud;
    atomic_fetch_add(st == STORE_OK ? &full_ok : &full_err, 1);
    atomic_fetch_add(&full_calls, 1);
}

static void test_disk_full(void) {
    char *dir = scratch_dir("diskfull");
    store *s = NULL;
    char *err = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    CHECK(store_namespace_create(s, "full", NULL, NULL, NULL, NULL) == STORE_OK);
    store_close(s);
    int fds[2];
    CHECK(pipe(fds) == 0);
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        signal(SIGXFSZ, SIG_IGN); /* write() then fails with EFBIG instead of killing us */
        if (store_open(test_store_target(dir), &s, &err) != STORE_OK) _exit(10);
        struct rlimit rl = {256 * 1024, 256 * 1024};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(11);
        static char big[8192];
        memset(big, 'z', sizeof big - 1);
        int puts = 0;
        for (int i = 0; i < 400; i++) {
            char id[32];
            snprintf(id, sizeof id, "full-%d", i);
            json_t *rec = make_activation("full", "f", id, i + 1, "success");
            json_object_set_new(rec, "logs", json_pack("[s]", big));
            store_activation_put(s, rec, NULL, on_full, NULL);
            puts++;
            usleep(200); /* several batches, so some commit before the limit bites */
        }
        json_t *doc = json_pack("{s:{s:s, s:s}}", "exec", "kind", "js:duktape", "code", big);
        int action_failed = 0;
        for (int i = 0; i < 200 && !action_failed; i++) {
            char name[32];
            snprintf(name, sizeof name, "a-%d", i);
            action_failed = store_action_put(s, "full", name, doc, 0, NULL) == STORE_ERROR;
        }
        json_decref(doc);
        store_close(s);
        if (atomic_load(&full_calls) != puts) _exit(12);
        if (atomic_load(&full_err) == 0 || !action_failed) _exit(13);
        printf("disk full: %d activations committed, %d refused\n", atomic_load(&full_ok), atomic_load(&full_err));
        fflush(stdout);
        int committed = atomic_load(&full_ok);
        _exit(write(fds[1], &committed, sizeof committed) == sizeof committed ? 0 : 14);
    }
    close(fds[1]);
    int committed = -1;
    if (read(fds[0], &committed, sizeof committed) != sizeof committed) committed = -1;
    close(fds[0]);
    int wst = 0;
    CHECK(waitpid(pid, &wst, 0) == pid);
    CHECK(WIFEXITED(wst) && WEXITSTATUS(wst) == 0);
    if (!(WIFEXITED(wst) && WEXITSTATUS(wst) == 0)) fprintf(stderr, "disk-full child status 0x%x\n", wst);
    CHECK(db_integrity_ok(dir));
    s = NULL;
    CHECK(store_open(test_store_target(dir), &s, &err) == STORE_OK);
    json_t *doc = json_pack("{s:{s:s, s:s}}", "exec", "kind", "js:duktape", "code", "ok");
    CHECK(store_action_put(s, "full", "after", doc, 1, NULL) == STORE_OK); /* writable again */
    /* Every activation the child was told is committed is there. */
    json_t *list = NULL;
    CHECK(store_activation_list(s, "full", NULL, 0, 0, 0, 0, 0, &list) == STORE_OK);
    CHECK(committed >= 0 && json_array_size(list) == (size_t)committed);
    json_decref(list);
    json_decref(doc);
    store_close(s);
    scratch_remove(dir);
}

int main(void) {
    test_kill9();
    test_read_only();
    if (test_store_pg()) printf("skip: RLIMIT_FSIZE disk full (the file is PostgreSQL's)\n");
    else test_disk_full();
    return CHECK_DONE();
}
