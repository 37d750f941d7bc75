/* test_enclave_process.c - the real tfaas-enclave binary over a socketpair,
 * started as the host starts it: hello, invocations (cold, warm, NEED_CODE,
 * parallel, limits), lanes and CANCEL, DROP, the sandbox as seen in /proc, and how it ends on
 * SHUTDOWN, EOF and malformed input. $TFAAS_BIN names the binary's folder,
 * $TFAAS_ENCLAVE the binary (tfaas-enclave or tfaas-enclave-v8; built once
 * per engine, see CMakeLists.txt). */
#include "check.h"
#include "common/ipc.h"
#include "engine_under_test.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MB (1024u * 1024u)

typedef struct {
    pid_t pid;
    int fd;
} enclave;

static char enclave_path[4096];

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Starts the enclave with the channel on fd 3 and one stray descriptor
 * (fd 5, a pipe end) that the sandbox must close. */
static enclave spawn(const char *workers) {
    enclave e = {-1, -1};
    int sv[2], stray[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe(stray) < 0) return e;
    pid_t pid = fork();
    if (pid == 0) {
        if (dup2(sv[1], 3) < 0 || dup2(stray[0], 5) < 0) _exit(127);
        char *argv[] = {"tfaas-enclave", "--fd", "3", "--workers", (char *)workers, NULL};
        char *envp[] = {NULL};
        execve(enclave_path, argv, envp);
        _exit(127);
    }
    close(sv[1]);
    close(stray[0]);
    close(stray[1]);
    e.pid = pid;
    e.fd = sv[0];
    struct timeval tv = {.tv_sec = 20};
    setsockopt(e.fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return e;
}

/* Waits for the process; returns the wait status, or -1 after 20 s. */
static int reap(enclave *e) {
    int status;
    for (int i = 0; i < 2000; i++) {
        pid_t r = waitpid(e->pid, &status, WNOHANG);
        if (r == e->pid) {
            e->pid = -1;
            return status;
        }
        usleep(10000);
    }
    kill(e->pid, SIGKILL);
    waitpid(e->pid, &status, 0);
    e->pid = -1;
    return -1;
}

typedef struct {
    const char *key, *code, *main, *params, *action; /* action: INVOKE's ACTION field, NULL: {} */
    uint64_t timeout_ms, memory, max_result, max_log, concurrency;
} invoke_args;

static int send_invoke(int fd, uint64_t id, const invoke_args *a) {
    ipc_writer w = {0};
    ipc_writer_begin(&w, IPC_INVOKE, id);
    ipc_put_str(&w, a->key);
    ipc_put_str(&w, a->code);
    ipc_put_str(&w, a->main ? a->main : "main");
    ipc_put_str(&w, a->params ? a->params : "{}");
    ipc_put_str(&w, "0123456789abcdef0123456789abcdef");
    /* tests about time set their own; for the others it is a backstop that a
     * loaded machine running ASan must not reach */
    ipc_put_u64(&w, a->timeout_ms ? a->timeout_ms : 60000);
    ipc_put_u64(&w, a->memory ? a->memory : 64 * MB);
    ipc_put_u64(&w, a->max_result ? a->max_result : MB);
    ipc_put_u64(&w, a->max_log ? a->max_log : 10 * MB);
    ipc_put_u64(&w, a->concurrency ? a->concurrency : 1);
    ipc_put_u64(&w, 0); /* not confidential */
    ipc_put_str(&w, "");
    ipc_put_str(&w, a->action ? a->action : "{}");
    ipc_put_str(&w, ""); /* no egress policy: fetch refused */
    ipc_status st = ipc_writer_finish(&w);
    if (st == IPC_OK) st = ipc_send(fd, &w);
    ipc_writer_free(&w);
    return st == IPC_OK ? 0 : -1;
}

static int send_simple(int fd, ipc_type type, const char *field) {
    ipc_writer w = {0};
    ipc_writer_begin(&w, type, 0);
    if (field) ipc_put_str(&w, field);
    ipc_status st = ipc_writer_finish(&w);
    if (st == IPC_OK) st = ipc_send(fd, &w);
    ipc_writer_free(&w);
    return st == IPC_OK ? 0 : -1;
}

typedef struct {
    uint64_t id, status, duration_us, init_us, peak;
    char *result, *logs;
} result;

/* Reads one RESULT; status 999 when none came or it was malformed. */
static result recv_result(int fd) {
    result r = {.status = 999};
    ipc_msg m;
    if (ipc_recv(fd, &m) != IPC_OK) return r;
    if (m.type == IPC_RESULT && m.nfields == RES_NFIELDS && ipc_get_u64(&m, RES_STATUS, &r.status) == 0 &&
        ipc_get_u64(&m, RES_DURATION_US, &r.duration_us) == 0 && ipc_get_u64(&m, RES_INIT_US, &r.init_us) == 0 &&
        ipc_get_u64(&m, RES_PEAK_MEMORY, &r.peak) == 0) {
        r.id = m.id;
        r.result = ipc_get_str(&m, RES_RESULT);
        r.logs = ipc_get_str(&m, RES_LOGS);
    } else {
        r.status = 999;
    }
    ipc_msg_free(&m);
    return r;
}

static void result_free(result *r) {
    free(r->result);
    free(r->logs);
}

static result call(enclave *e, uint64_t id, const invoke_args *a) {
    if (send_invoke(e->fd, id, a) < 0) return (result){.status = 999};
    result r = recv_result(e->fd);
    CHECK(r.id == id);
    return r;
}

static void test_hello(enclave *e, uint64_t want_workers) {
    ipc_msg m;
    ipc_status st = ipc_recv(e->fd, &m);
    CHECK(st == IPC_OK);
    if (st != IPC_OK) return;
    uint64_t proto = 0, workers = 0;
    CHECK(m.type == IPC_HELLO && m.id == 0 && m.nfields == HELLO_NFIELDS);
    CHECK(ipc_get_u64(&m, HELLO_PROTOCOL, &proto) == 0 && proto == IPC_VERSION);
    CHECK(ipc_get_u64(&m, HELLO_WORKERS, &workers) == 0 && workers == want_workers);
    char *engine = ipc_get_str(&m, HELLO_ENGINE);
    CHECK(engine && strncmp(engine, ENGINE_PREFIX, strlen(ENGINE_PREFIX)) == 0);
    free(engine);
    ipc_msg_free(&m);
}

static void test_invocations(enclave *e) {
    invoke_args hello = {.key = "guest/hello@1",
                         .code = "var calls = 0; function main(p) { calls++; console.log('hi', p.name);"
                                 " return {greeting: 'Hello ' + p.name, calls: calls}; }",
                         .params = "{\"name\":\"tfaas\"}"};
    result r = call(e, 1, &hello);
    CHECK(r.status == TFAAS_STATUS_SUCCESS);
    CHECK_STR(r.result, "{\"greeting\":\"Hello tfaas\",\"calls\":1}");
    CHECK(r.logs && strstr(r.logs, "Z stdout: hi tfaas") != NULL);
    CHECK(r.init_us > 0 && r.peak > 0);
    result_free(&r);

    /* warm: no code needed, globals kept, no init time */
    invoke_args warm = hello;
    warm.code = "";
    r = call(e, 2, &warm);
    CHECK_STR(r.result, "{\"greeting\":\"Hello tfaas\",\"calls\":2}");
    CHECK(r.init_us == 0);
    result_free(&r);

    /* unknown key without code */
    invoke_args unknown = {.key = "guest/other@1", .code = ""};
    r = call(e, 3, &unknown);
    CHECK(r.status == TFAAS_STATUS_NEED_CODE);
    CHECK(r.result && r.result[0] == '{');
    result_free(&r);

    /* Dates work under the filter (no file is read for the time zone) */
    invoke_args date = {.key = "guest/date@1",
                        .code = "function main() { var d = new Date(0); return {s: d.toString(), o: d.getTimezoneOffset(),"
                                " now: Date.now() > 0, r: Math.random() < 1}; }"};
    r = call(e, 4, &date);
    CHECK(r.status == TFAAS_STATUS_SUCCESS);
    CHECK(r.result && strstr(r.result, "\"o\":0,\"now\":true,\"r\":true") != NULL);
    result_free(&r);

    /* limits end the call and the enclave carries on */
    invoke_args loop = {.key = "guest/loop@1", .code = "function main() { for (;;) {} }", .timeout_ms = 300};
    double t0 = now_s();
    r = call(e, 5, &loop);
    CHECK(now_s() - t0 < 5.0); /* loose: a loaded ASan machine delays the thread; the message names the limit */
    CHECK_STR(r.result, "{\"error\":\"The action exceeded its time limits of 300 milliseconds.\"}");
    CHECK(r.status == TFAAS_STATUS_DEVELOPER_ERR);
    result_free(&r);
    invoke_args bomb = {.key = "guest/bomb@1", .memory = 16 * MB,
                        .code = "function main() { var a = []; for (;;) { var b = []; for (var i = 0; i < 1000; i++) b.push(i);"
                                " a.push(b); } }"};
    r = call(e, 6, &bomb);
    CHECK_STR(r.result, "{\"error\":\"The action exhausted its memory and was aborted.\"}");
    result_free(&r);
    invoke_args deep = {.key = "guest/deep@1", .code = "function main() { function f() { return [0].map(f); } return f(); }"};
    r = call(e, 7, &deep);
    CHECK(r.status == TFAAS_STATUS_DEVELOPER_ERR && r.result && strstr(r.result, "RangeError") != NULL);
    result_free(&r);
    invoke_args syntax = {.key = "guest/syntax@1", .code = "function main( {"};
    r = call(e, 8, &syntax);
    CHECK(r.status == TFAAS_STATUS_DEVELOPER_ERR);
    CHECK(r.result && strstr(r.result, "Initialization has failed due to: SyntaxError") != NULL);
    result_free(&r);
    r = call(e, 9, &warm);
    CHECK_STR(r.result, "{\"greeting\":\"Hello tfaas\",\"calls\":3}");
    result_free(&r);

    /* DROP by exact key, then by "ns/name@" prefix */
    CHECK(send_simple(e->fd, IPC_DROP, "guest/hello@1") == 0);
    r = call(e, 10, &warm);
    CHECK(r.status == TFAAS_STATUS_NEED_CODE);
    result_free(&r);
    r = call(e, 11, &hello);
    CHECK_STR(r.result, "{\"greeting\":\"Hello tfaas\",\"calls\":1}");
    result_free(&r);
    CHECK(send_simple(e->fd, IPC_DROP, "guest/hello@") == 0);
    r = call(e, 12, &warm);
    CHECK(r.status == TFAAS_STATUS_NEED_CODE);
    result_free(&r);
}

/* Two activations of one function (concurrency 2) on two workers run at the
 * same time on two heaps: together they take about as long as one. */
static void test_parallel(enclave *e) {
    invoke_args busy = {.key = "guest/busy@1", .concurrency = 2,
                        .code = "var n = 0; function main(p) { n++; var end = Date.now() + p.ms; while (Date.now() < end) {}"
                                " return {n: n}; }",
                        .params = "{\"ms\":400}"};
    result r = call(e, 20, &busy); /* one warm heap to start with */
    result_free(&r);
    double t0 = now_s();
    CHECK(send_invoke(e->fd, 21, &busy) == 0);
    busy.code = "";
    CHECK(send_invoke(e->fd, 22, &busy) == 0);
    result a = recv_result(e->fd), b = recv_result(e->fd);
    double took = now_s() - t0;
    CHECK(a.status == TFAAS_STATUS_SUCCESS && b.status == TFAAS_STATUS_SUCCESS);
    CHECK((a.id == 21 && b.id == 22) || (a.id == 22 && b.id == 21));
    CHECK(took < 0.75);
    /* one reused the warm heap (n 2), the other got a fresh one (n 1) */
    CHECK(a.result && b.result && strcmp(a.result, b.result) != 0);
    CHECK((a.init_us == 0) != (b.init_us == 0));
    result_free(&a);
    result_free(&b);
}

/* A lane (endpoint.c): with concurrency 1, three INVOKEs of one function
 * sent at once run one after the other on the one warm heap, in the order
 * sent, although a second worker is idle; the next function is not held up
 * by them; a CANCEL takes a waiting one out (NOT_RUN), and one for an id
 * that is not waiting is ignored. */
static void test_lanes(enclave *e) {
    invoke_args lane = {.key = "guest/lane@1",
                        .code = "var n = 0; function main(p) { n++; var end = Date.now() + p.ms; while (Date.now() < end) {}"
                                " return {n: n}; }",
                        .params = "{\"ms\":300}"};
    result r = call(e, 30, &lane); /* warm: n is 1 */
    CHECK(r.status == TFAAS_STATUS_SUCCESS);
    result_free(&r);
    lane.code = "";
    for (uint64_t id = 31; id <= 34; id++) CHECK(send_invoke(e->fd, id, &lane) == 0);
    /* another function gets the idle worker at once */
    invoke_args other = {.key = "guest/other@1", .code = "function main() { return {other: true}; }"};
    CHECK(send_invoke(e->fd, 40, &other) == 0);
    CHECK(send_simple(e->fd, IPC_CANCEL, NULL) == 0); /* id 0: nothing waits under it */
    ipc_writer w = {0};
    ipc_writer_begin(&w, IPC_CANCEL, 34); /* the last one waits behind two: taken out */
    CHECK(ipc_writer_finish(&w) == IPC_OK && ipc_send(e->fd, &w) == IPC_OK);
    ipc_writer_free(&w);
    result first = recv_result(e->fd);
    CHECK(first.id == 40 || first.id == 34); /* both answered long before the lane's 900 ms */
    result second = recv_result(e->fd);
    CHECK((first.id == 40 && second.id == 34) || (first.id == 34 && second.id == 40));
    result *cancelled = first.id == 34 ? &first : &second;
    CHECK(cancelled->status == TFAAS_STATUS_NOT_RUN);
    result_free(&first);
    result_free(&second);
    char want[16];
    for (uint64_t id = 31; id <= 33; id++) { /* in order, each on the warm heap */
        r = recv_result(e->fd);
        snprintf(want, sizeof want, "{\"n\":%d}", (int)(id - 29));
        CHECK(r.id == id && r.status == TFAAS_STATUS_SUCCESS && r.init_us == 0);
        CHECK_STR(r.result, want);
        result_free(&r);
    }
}

/* The host mirrors each lane (scheduler/enclave.c, lane_advance): once it
 * reads a RESULT of a lane's job, it counts the next one waiting there as
 * started, and a NOT_RUN for that one is a protocol violation that kills the
 * enclave. So a CANCEL that arrives while a worker is answering the job ahead
 * must not take the next one out: the lane moves before the RESULT leaves.
 * Here the RESULT is larger than the socket holds, so the worker is stuck
 * writing it until the test reads; the CANCEL for the next job is read by the
 * enclave meanwhile (its send queue here is empty) and must find nothing to
 * cancel: the next job runs. (Before the fix the worker took the next job
 * only after its write: the CANCEL took it out, and NOT_RUN followed the
 * RESULT ahead of it.) */
static void test_cancel_after_result(enclave *e) {
    invoke_args big = {.key = "guest/handover@1",
                       .code = "function main(p) { return p.big ? {b: new Array(900001).join(\"x\")} : {small: 1}; }",
                       .params = "{\"big\":true}"};
    CHECK(send_invoke(e->fd, 60, &big) == 0);
    big.code = "";
    big.params = "{}";
    CHECK(send_invoke(e->fd, 61, &big) == 0); /* waits in the lane behind 60 */
    /* 60's RESULT has begun to arrive: its worker is inside the write, which
     * cannot finish before we read (bounded by the socket's 20 s timeout) */
    struct pollfd p = {.fd = e->fd, .events = POLLIN};
    CHECK(poll(&p, 1, 20000) == 1);
    ipc_writer w = {0};
    ipc_writer_begin(&w, IPC_CANCEL, 61);
    CHECK(ipc_writer_finish(&w) == IPC_OK && ipc_send(e->fd, &w) == IPC_OK);
    ipc_writer_free(&w);
    /* the enclave has read the CANCEL once nothing of ours waits unread */
    int unread = 1;
    for (unsigned waited = 0; waited < 20000 && unread; waited += 5) {
        if (ioctl(e->fd, SIOCOUTQ, &unread) < 0) break;
        if (unread) usleep(5000);
    }
    CHECK(unread == 0);
    usleep(100000); /* room for the old code's cancel to take 61 out */
    result first = recv_result(e->fd), second = recv_result(e->fd);
    CHECK(first.id == 60 && first.status == TFAAS_STATUS_SUCCESS);
    CHECK(second.id == 61 && second.status == TFAAS_STATUS_SUCCESS);
    CHECK_STR(second.result, "{\"small\":1}");
    result_free(&first);
    result_free(&second);
}

static void test_sandbox(enclave *e) {
    char path[64], buf[8192];
    snprintf(path, sizeof path, "/proc/%d/status", (int)e->pid);
    int fd = open(path, O_RDONLY);
    CHECK(fd >= 0);
    ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
    if (fd >= 0) close(fd);
    buf[n > 0 ? n : 0] = '\0';
    CHECK(strstr(buf, "\nSeccomp:\t2\n") != NULL);
    CHECK(strstr(buf, "\nNoNewPrivs:\t1\n") != NULL);
    snprintf(path, sizeof path, "/proc/%d/fd", (int)e->pid);
    DIR *d = opendir(path);
    if (!d && errno == EACCES) {
        /* non-dumpable processes hide their fds from other unprivileged users */
        printf("note: %s not readable, descriptor check skipped\n", path);
        return;
    }
    CHECK(d != NULL);
    if (!d) return;
    int fds = 0, unexpected = 0;
    for (struct dirent *de; (de = readdir(d));) {
        if (de->d_name[0] == '.') continue;
        int num = atoi(de->d_name);
        fds++;
        if (num > 3) unexpected++;
    }
    closedir(d);
    CHECK(fds == 4);
    CHECK(unexpected == 0);
}

static int exited_with(int status, int code) {
    if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) != code)
        fprintf(stderr, "wait status %#x, expected exit %d\n", (unsigned)status, code);
    return status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == code;
}

static void test_endings(void) {
    /* SHUTDOWN: in-flight work is answered, then exit 0 */
    enclave e = spawn("2");
    test_hello(&e, 2);
    invoke_args slow = {.key = "guest/slow@1", .code = "function main() { var end = Date.now() + 200;"
                                                       " while (Date.now() < end) {} return {done: true}; }"};
    CHECK(send_invoke(e.fd, 1, &slow) == 0);
    CHECK(send_simple(e.fd, IPC_SHUTDOWN, NULL) == 0);
    result r = recv_result(e.fd);
    CHECK_STR(r.result, "{\"done\":true}");
    result_free(&r);
    CHECK(exited_with(reap(&e), 0));
    close(e.fd);

    /* EOF: exit 0 */
    e = spawn("1");
    test_hello(&e, 1);
    close(e.fd);
    CHECK(exited_with(reap(&e), 0));

    /* malformed input: exit 1, not a signal */
    static const uint8_t garbage[] = {16, 0, 0, 0, 9, 2, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0};
    for (int k = 0; k < 4; k++) {
        e = spawn("1");
        test_hello(&e, 1);
        if (k == 0) CHECK(write(e.fd, garbage, sizeof garbage) == (ssize_t)sizeof garbage);
        if (k == 1) CHECK(send_simple(e.fd, IPC_HELLO, NULL) == 0);        /* wrong direction */
        if (k == 2) CHECK(send_simple(e.fd, IPC_INVOKE, "guest/x@1") == 0); /* fields missing */
        if (k == 3) CHECK(write(e.fd, "\xff\xff\xff\x7f", 4) == 4);         /* over the frame cap */
        int st = reap(&e);
        CHECK(exited_with(st, 1));
        close(e.fd);
    }

    /* bad command lines */
    const char *bad[][4] = {{"--fd", "1", NULL}, {"--fd", "3", "--workers", "0"}, {"--bogus", NULL}, {NULL}};
    for (size_t k = 0; k < sizeof bad / sizeof *bad; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            int devnull = open("/dev/null", O_WRONLY);
            dup2(devnull, 2);
            char *argv[6] = {"tfaas-enclave"};
            for (int i = 0; i < 4 && bad[k][i]; i++) argv[i + 1] = (char *)bad[k][i];
            char *envp[] = {NULL};
            execve(enclave_path, argv, envp);
            _exit(127);
        }
        int st;
        waitpid(pid, &st, 0);
        CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 2);
    }
}

int main(void) {
    const char *bin = getenv("TFAAS_BIN");
    const char *name = getenv("TFAAS_ENCLAVE");
    snprintf(enclave_path, sizeof enclave_path, "%s/%s", bin ? bin : "build/bin", name ? name : "tfaas-enclave");
    signal(SIGPIPE, SIG_IGN);
    enclave e = spawn("2");
    CHECK(e.pid > 0);
    if (e.pid <= 0) return CHECK_DONE();
    test_hello(&e, 2);
    test_invocations(&e);
    test_parallel(&e);
    test_lanes(&e);
    test_cancel_after_result(&e);
    test_sandbox(&e);
    CHECK(send_simple(e.fd, IPC_SHUTDOWN, NULL) == 0);
    CHECK(exited_with(reap(&e), 0));
    close(e.fd);
    test_endings();
    return CHECK_DONE();
}
