/* test_scheduler_launcher.c - starting enclave processes: the handshake, its
 * failures (missing binary, early exit, silence, wrong protocol) and what the
 * child inherits (argv, no environment, no stray descriptors). */
#include "check.h"
#include "scratch.h"
#include "host/scheduler/launcher.h"
#include "host/util/clock.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *dir;

/* Writes an executable shell script dir/name; returns its path (path_join's
 * static buffer, valid until the next path_join). */
static const char *script(const char *name, const char *body) {
    const char *path = path_join(dir, name);
    FILE *f = fopen(path, "w");
    if (!f) return path;
    fprintf(f, "#!/bin/sh\n%s", body);
    fclose(f);
    chmod(path, 0700);
    return path;
}

static char *slurp(const char *name) {
    FILE *f = fopen(path_join(dir, name), "r");
    if (!f) return NULL;
    char *buf = calloc(1, 65536);
    if (buf) {
        size_t n = fread(buf, 1, 65535, f);
        buf[n] = '\0';
    }
    fclose(f);
    return buf;
}

static void test_failures(void) {
    launched_enclave le;
    char *err = NULL;
    CHECK(launcher_start("/nonexistent/tfaas-enclave", 1, 1000, &le, &err) == -1);
    CHECK(err && strstr(err, "No such file"));
    CHECK(le.pid == -1 && le.fd == -1);
    free(err);

    CHECK(launcher_start("/bin/false", 1, 1000, &le, &err) == -1);
    CHECK(err && strstr(err, "exited before its hello"));
    free(err);

    CHECK(launcher_start("/bin/false", 0, 1000, &le, &err) == -1);
    CHECK(err && strstr(err, "worker count"));
    free(err);

    /* A HELLO frame announcing protocol 99. */
    const char *p = script("wrongver",
        "printf '\\030\\000\\000\\000\\001\\001\\001\\000\\000\\000\\000\\000\\000\\000\\000\\000"
        "\\010\\000\\000\\000\\143\\000\\000\\000\\000\\000\\000\\000' >&3\nsleep 5\n");
    CHECK(launcher_start(p, 1, 2000, &le, &err) == -1);
    CHECK(err && strstr(err, "protocol 99"));
    free(err);
}

/* A silent child: the timeout fires, and the child saw only what it should. */
static void test_silent_child(void) {
    char body[2048]; /* three scratch paths of up to 512 bytes */
    snprintf(body, sizeof body,
             "ls -1 /proc/$$/fd > %s/fds\nenv > %s/env\necho \"$0 $@\" > %s/args\nexec sleep 10\n",
             dir, dir, dir);
    const char *p = script("silent", body);
    setenv("TFAAS_TEST_LEAK", "secret", 1);
    int stray = dup2(2, 50); /* inheritable (no CLOEXEC): must not reach the child */
    CHECK(stray == 50);
    launched_enclave le;
    char *err = NULL;
    uint64_t t0 = clock_mono_us();
    CHECK(launcher_start(p, 3, 1000, &le, &err) == -1);
    uint64_t ms = (clock_mono_us() - t0) / 1000;
    CHECK(err && strstr(err, "did not say hello within 1000 ms"));
    CHECK(ms >= 990 && ms < 4000);
    free(err);
    close(50);

    char *fds = slurp("fds"), *env = slurp("env"), *args = slurp("args");
    CHECK(fds && strstr(fds, "3\n") && !strstr(fds, "50\n"));
    CHECK(env && !strstr(env, "TFAAS_TEST_LEAK"));
    CHECK(args && strstr(args, "tfaas-enclave --fd 3 --workers 3") == NULL); /* $0 is the path */
    CHECK(args && strstr(args, " --fd 3 --workers 3\n"));
    free(fds);
    free(env);
    free(args);
}

static void test_real_enclave(void) {
    const char *bin = getenv("TFAAS_BIN");
    char path[4096];
    snprintf(path, sizeof path, "%s/tfaas-enclave", bin ? bin : "bin");
    launched_enclave le;
    char *err = NULL;
    int rc = launcher_start(path, 2, LAUNCHER_HELLO_TIMEOUT_MS, &le, &err);
    if (rc != 0) fprintf(stderr, "launch %s: %s\n", path, err ? err : "?");
    CHECK(rc == 0);
    free(err);
    if (rc != 0) return;
    CHECK(le.pid > 0 && le.fd > 2);
    CHECK(le.workers >= 1);
    CHECK(fcntl(le.fd, F_GETFD) & FD_CLOEXEC);
    CHECK(kill(le.pid, 0) == 0);
    close(le.fd); /* the enclave sees EOF and should exit; kill regardless */
    launcher_kill(le.pid);
    launcher_reap(le.pid);
    CHECK(kill(le.pid, 0) == -1 && errno == ESRCH);
}

int main(void) {
    dir = scratch_dir("launcher");
    test_failures();
    test_silent_child();
    test_real_enclave();
    scratch_remove(dir);
    return CHECK_DONE();
}
