/* test_admin.c - `tfaas admin namespace create|list|delete`, run in-process
 * with stdout and stderr captured: outputs, exit codes, name rules, and that
 * the printed credential really authenticates against the store. */
#include "check.h"
#include "host/commands.h"
#include "host/store/store.h"
#include "test_store_helpers.h"

#include <ctype.h>
#include <fcntl.h>
#include <stdarg.h>

static char out[65536], err[65536];

static void slurp(int fd, char *buf, size_t size) {
    lseek(fd, 0, SEEK_SET);
    ssize_t n = read(fd, buf, size - 1);
    buf[n > 0 ? n : 0] = '\0';
    close(fd);
}

/* Runs admin_main with the given arguments (NULL-terminated) and returns its
 * exit status; what it printed lands in `out` and `err`. */
static int run(const char *first, ...) {
    char *argv[32];
    int argc = 0;
    argv[argc++] = "admin";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;

    fflush(stdout);
    fflush(stderr);
    char o_path[] = "/tmp/tfaas-admin-out-XXXXXX", e_path[] = "/tmp/tfaas-admin-err-XXXXXX";
    int o_fd = mkstemp(o_path), e_fd = mkstemp(e_path);
    unlink(o_path);
    unlink(e_path);
    int saved_out = dup(1), saved_err = dup(2);
    dup2(o_fd, 1);
    dup2(e_fd, 2);
    int rc = admin_main(argc, argv);
    fflush(stdout);
    fflush(stderr);
    dup2(saved_out, 1);
    dup2(saved_err, 2);
    close(saved_out);
    close(saved_err);
    slurp(o_fd, out, sizeof out);
    slurp(e_fd, err, sizeof err);
    return rc;
}

static int is_credential_line(const char *s) {
    if (strlen(s) != 36 + 1 + 64 + 1 || s[36] != ':' || s[101] != '\n') return 0;
    for (int i = 37; i < 101; i++)
        if (!isalnum((unsigned char)s[i])) return 0;
    return 1;
}

int main(void) {
    char *root = scratch_dir("admin");
    char state[1024];
    snprintf(state, sizeof state, "%s/state", root);

    /* Help and usage errors. */
    CHECK(run("--help", NULL) == 0 && strstr(out, "namespace create"));
    CHECK(run(NULL) == 2 && strstr(err, "usage"));
    CHECK(run("namespace", "--help", NULL) == 0 && strstr(out, "namespace list"));
    CHECK(run("namespace", "create", "--help", NULL) == 0 && strstr(out, "UUID:KEY"));
    CHECK(run("namespace", "list", "-h", NULL) == 0 && strstr(out, "tab"));
    CHECK(run("namespace", "delete", "--help", NULL) == 0 && strstr(out, "activations"));
    CHECK(run("namespace", NULL) == 2);
    CHECK(run("user", "create", "x", NULL) == 2 && strstr(err, "unknown subject"));
    CHECK(run("namespace", "rename", "x", NULL) == 2 && strstr(err, "unknown command"));
    CHECK(run("namespace", "create", "--state", state, NULL) == 2 && strstr(err, "NAME is missing"));
    CHECK(run("namespace", "create", "a", "b", "--state", state, NULL) == 2 && strstr(err, "unexpected argument"));
    CHECK(run("namespace", "create", "a", "--bogus", NULL) == 2 && strstr(err, "unknown option"));
    CHECK(run("namespace", "create", "a", "--state", NULL) == 2 && strstr(err, "--state needs"));
    /* the system namespace is serve's alone: no credential for it, ever */
    CHECK(run("namespace", "create", "whisk.system", "--state", state, NULL) == 2 && strstr(err, "read-only"));
    CHECK(run("namespace", "delete", "whisk.system", "--state", state, NULL) == 2 && strstr(err, "read-only"));
    CHECK(run("namespace", "list", "extra", "--state", state, NULL) == 2);

    /* create prints uuid:key, and that credential works. */
    CHECK(run("namespace", "create", "alice", "--state", state, NULL) == 0);
    CHECK(is_credential_line(out));
    char cred[102] = ""; /* uuid NUL key NUL */
    memcpy(cred, out, sizeof cred - 1);
    cred[36] = '\0';
    cred[101] = '\0';
    store *s = NULL;
    char *e = NULL, ns[300];
    CHECK(store_open(state, &s, &e) == STORE_OK);
    CHECK(store_authenticate(s, cred, cred + 37, ns, sizeof ns, NULL) == STORE_OK);
    CHECK_STR(ns, "alice");
    store_close(s);

    CHECK(run("namespace", "create", "alice", "--state", state, NULL) == 1);
    CHECK(strstr(err, "namespace 'alice' already exists") != NULL);
    CHECK(out[0] == '\0');

    /* Names: OpenWhisk's entity rule. */
    char n256[257], n257[258];
    memset(n256, 'n', 256);
    n256[256] = 0;
    memset(n257, 'n', 257);
    n257[257] = 0;
    const char *good[] = {"b", "_", "0", "a b", "a@b.c-d_e", n256};
    for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
        CHECK(run("namespace", "create", good[i], "--state", state, NULL) == 0);
        CHECK(is_credential_line(out));
    }
    const char *bad[] = {"", " lead", "trail ", "a/b", "é", ".x", "@x", "a;b", "a\nb", "a'b", "a*", n257};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        CHECK(run("namespace", "create", bad[i], "--state", state, NULL) == 2);
        CHECK(strstr(err, "invalid namespace name") != NULL);
    }
    /* A control character is shown escaped, never sent to the terminal raw. */
    CHECK(run("namespace", "create", "x\x1b[2J", "--state", state, NULL) == 2);
    CHECK(strstr(err, "\\x1b[2J") && !strchr(err, '\x1b'));

    /* list: NAME<TAB>UUID, sorted. */
    CHECK(run("namespace", "list", "--state", state, NULL) == 0);
    CHECK(strncmp(out, "0\t", 2) == 0);
    char want[160];
    snprintf(want, sizeof want, "\nalice\t%.36s\n", cred);
    CHECK(strstr(out, want) != NULL);
    CHECK(strstr(out, "\na b\t") != NULL);
    CHECK(strstr(out, cred + 37) == NULL); /* keys are never listed */

    /* delete, then it is gone; deleting again fails. */
    CHECK(run("namespace", "delete", "alice", "--state", state, NULL) == 0 && strstr(out, "deleted namespace 'alice'"));
    CHECK(run("namespace", "delete", "alice", "--state", state, NULL) == 1);
    CHECK(strstr(err, "namespace 'alice' does not exist") != NULL);
    CHECK(run("namespace", "list", "--state", state, NULL) == 0 && !strstr(out, "alice"));
    CHECK(strstr(out, "a b\t") != NULL);

    /* --state=DIR, and $TFAAS_STATE as the default. */
    char state2[1024];
    snprintf(state2, sizeof state2, "--state=%s/two", root);
    CHECK(run("namespace", "create", "t", state2, NULL) == 0 && is_credential_line(out));
    char envdir[1024];
    snprintf(envdir, sizeof envdir, "%s/env", root);
    setenv("TFAAS_STATE", envdir, 1);
    CHECK(run("namespace", "create", "fromenv", NULL) == 0 && is_credential_line(out));
    CHECK(run("namespace", "list", "--state", envdir, NULL) == 0 && strstr(out, "fromenv\t"));
    CHECK(run("namespace", "list", state2, NULL) == 0 && strstr(out, "t\t") && !strstr(out, "fromenv"));
    unsetenv("TFAAS_STATE");

    /* A state path that cannot be a directory: a clear failure, status 1. */
    CHECK(run("namespace", "list", "--state", "/dev/null", NULL) == 1);
    CHECK(strstr(err, "not a directory") != NULL);

    /* --store (and $TFAAS_STORE) name a PostgreSQL store instead of the
     * state directory's SQLite: only where one runs (scripts/pg-test.sh). */
    if (test_store_pg()) {
        char target[1024];
        snprintf(target, sizeof target, "%s", test_store_target(path_join(root, "pg")));
        CHECK(run("namespace", "create", "pgtenant", "--store", target, "--state", state, NULL) == 0);
        CHECK(is_credential_line(out));
        char pgcred[102] = "";
        memcpy(pgcred, out, sizeof pgcred - 1);
        pgcred[36] = pgcred[101] = '\0';
        s = NULL;
        CHECK(store_open(target, &s, &e) == STORE_OK);
        CHECK(store_authenticate(s, pgcred, pgcred + 37, ns, sizeof ns, NULL) == STORE_OK);
        CHECK_STR(ns, "pgtenant");
        store_close(s);
        CHECK(run("namespace", "list", "--state", state, NULL) == 0 && !strstr(out, "pgtenant"));
        setenv("TFAAS_STORE", target, 1);
        CHECK(run("namespace", "delete", "pgtenant", "--state", state, NULL) == 0);
        unsetenv("TFAAS_STORE");
        CHECK(run("namespace", "list", "--store", target, NULL) == 0 && !strstr(out, "pgtenant"));
        CHECK(run("namespace", "list", "--store", "postgresql://nobody@/nodb?host=/nonexistent", NULL) == 1);
        CHECK(strstr(err, "cannot connect") && !strstr(err, "nonexistent?")); /* no URL echoed */
    }

    scratch_remove(root);
    return CHECK_DONE();
}
