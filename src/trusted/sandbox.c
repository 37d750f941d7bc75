/* sandbox.c - process confinement of the enclave (sandbox.h).
 *
 * The seccomp filter is an allow-list: any other system call kills the whole
 * process. It holds only what a running enclave needs (channel I/O, memory,
 * futexes, clocks, exit); no open, network socket, exec, fork or ptrace (a
 * worker enclave may make AF_UNIX pairs and pass descriptors for fetch's
 * connection requests; the host opens the TCP connection). Executable
 * memory only for an engine with a JIT (the caller passes
 * engine_needs_exec_memory: V8 maps its code space and flips pages between
 * writable and executable as it compiles); Duktape never generates machine
 * code, so its enclave cannot, and neither can the key service (tfaas-kms),
 * which has no engine at all and shares this file.
 * The list was taken from strace of the real binary under load. Opening a
 * file is refused with EACCES instead of a kill (see sandbox_lock). */
#include "trusted/sandbox.h"

#include <errno.h>
#include <seccomp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Virtual memory cap: far above any sane use (heaps are bounded by their own
 * limits), low enough to stop an allocator bug from taking the machine. */
#define SANDBOX_MAX_AS    (32ull << 30)
#define SANDBOX_MAX_FILES 16u

static int fail(const char *what) {
    fprintf(stderr, "%s: sandbox: %s: %s\n", program_invocation_short_name, what, strerror(errno));
    return -1;
}

static int set_limit(int resource, rlim_t value, const char *name) {
    struct rlimit rl = {value, value};
    if (setrlimit(resource, &rl) < 0) return fail(name);
    return 0;
}

int sandbox_prepare(int keep_fd, int keep_fd2) {
    if (keep_fd < 3 || (keep_fd2 >= 0 && (keep_fd2 < 3 || keep_fd2 == keep_fd))) {
        errno = EINVAL;
        return fail("the channels must not be fd 0, 1 or 2");
    }
    int lo = keep_fd2 >= 0 && keep_fd2 < keep_fd ? keep_fd2 : keep_fd;
    int hi = keep_fd2 > keep_fd ? keep_fd2 : keep_fd;
    /* everything from 3 up but lo and hi */
    if (lo > 3 && close_range(3, (unsigned)lo - 1, 0) < 0) return fail("close_range");
    if (hi > lo + 1 && close_range((unsigned)lo + 1, (unsigned)hi - 1, 0) < 0) return fail("close_range");
    if (close_range((unsigned)hi + 1, ~0u, 0) < 0) return fail("close_range");
    /* Dates inside functions are UTC; tzset now reads whatever it wants to
     * read once, so no later Date call needs a file. */
    if (setenv("TZ", "UTC0", 1) < 0) return fail("setenv TZ");
    tzset();
    time_t t = 0;
    struct tm tm;
    localtime_r(&t, &tm);
    /* fetch holds a connection and its request pair per worker at most */
    unsigned files = (unsigned)hi + 1 > SANDBOX_MAX_FILES ? (unsigned)hi + 1 : SANDBOX_MAX_FILES;
    if (keep_fd2 >= 0) files += 2 * 256u;
    /* No RLIMIT_FSIZE of 0: stderr is often the host's log file, and a write
     * past the limit raises SIGXFSZ; seccomp already forbids opening files. */
    if (set_limit(RLIMIT_CORE, 0, "RLIMIT_CORE") < 0 || set_limit(RLIMIT_NOFILE, files, "RLIMIT_NOFILE") < 0)
        return -1;
#if !defined(TFAAS_SANITIZE)
    /* Sanitizers reserve terabytes of shadow address space. */
    if (set_limit(RLIMIT_AS, SANDBOX_MAX_AS, "RLIMIT_AS") < 0) return -1;
#endif
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) return fail("PR_SET_NO_NEW_PRIVS");
    if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0) return fail("PR_SET_DUMPABLE");
    return 0;
}

/* System calls the running enclave makes. */
static const int allowed[] = {
    /* the channel (ipc_recv reads, ipc_send sends), polling it, stderr */
    SCMP_SYS(read), SCMP_SYS(recvfrom), SCMP_SYS(write), SCMP_SYS(sendto), SCMP_SYS(poll),
    SCMP_SYS(close),
    /* memory (mmap/mprotect are filtered separately) */
    SCMP_SYS(munmap), SCMP_SYS(mremap), SCMP_SYS(madvise), SCMP_SYS(brk),
    /* threads: locks, and the tail of thread start/exit */
    SCMP_SYS(futex), SCMP_SYS(sched_yield), SCMP_SYS(rt_sigprocmask), SCMP_SYS(rt_sigreturn),
    SCMP_SYS(set_robust_list), SCMP_SYS(rseq), SCMP_SYS(getpid), SCMP_SYS(gettid),
    /* glibc's malloc asks for the CPU count once more than 8 threads allocate
     * at the same time (to size its arena pool); refusing it killed busy
     * enclaves */
    SCMP_SYS(sched_getaffinity),
    /* clocks (normally served by the vDSO; the syscalls are its fallback) */
    SCMP_SYS(clock_gettime), SCMP_SYS(gettimeofday), SCMP_SYS(getrandom),
    /* the end */
    SCMP_SYS(exit), SCMP_SYS(exit_group),
#if defined(TFAAS_SANITIZE)
    /* the ASan/UBSan runtime: alternate signal stacks, its own bookkeeping */
    SCMP_SYS(sigaltstack), SCMP_SYS(prctl), SCMP_SYS(getrlimit),
    SCMP_SYS(prlimit64),
#endif
#if defined(TFAAS_TSAN)
    /* ThreadSanitizer's background thread sleeps 100 ms between its rounds */
    SCMP_SYS(nanosleep), SCMP_SYS(clock_nanosleep),
#endif
};

int sandbox_lock(int exec_memory, int egress) {
    if (set_limit(RLIMIT_NPROC, 0, "RLIMIT_NPROC") < 0) return -1;
    scmp_filter_ctx f = seccomp_init(SCMP_ACT_KILL_PROCESS);
    if (!f) {
        errno = ENOMEM;
        return fail("seccomp_init");
    }
    int rc = seccomp_attr_set(f, SCMP_FLTATR_CTL_TSYNC, 1);
    for (size_t i = 0; rc == 0 && i < sizeof allowed / sizeof *allowed; i++)
        rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, allowed[i], 0);
    if (egress) {
        /* fetch (trusted/fetch/egress_conn.c): a private AF_UNIX pair per
         * connection request, one end passed to the host with SCM_RIGHTS
         * (sendmsg), the connected TCP socket received the same way
         * (recvmsg). Only AF_UNIX: the enclave opens no network socket; the
         * host connects, after its egress checks, and the enclave only reads
         * and writes the socket it was given. */
        if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(socketpair), 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX, 0));
        if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(sendmsg), 0);
        if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(recvmsg), 0);
    }
    if (exec_memory) {
        /* A JIT writes code and then makes it executable. */
        if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 0);
        if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 0);
    } else {
        /* Memory may be mapped and protected, but never made executable. */
        if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mmap), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
        if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ALLOW, SCMP_SYS(mprotect), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, 0));
    }
    /* Opening files fails rather than kills: glibc opens a /proc file
     * lazily when a thread's malloc arena shrinks and copes with a refusal. */
    if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(openat), 0);
    if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(open), 0);
    /* So does looking at a path: ICU (V8's Date and Intl) looks for
     * /usr/share/zoneinfo-icu on first use and falls back to its built-in
     * data when it cannot. */
    if (rc == 0) rc = seccomp_rule_add(f, SCMP_ACT_ERRNO(EACCES), SCMP_SYS(newfstatat), 0);
    if (rc == 0) rc = seccomp_load(f);
    seccomp_release(f);
    if (rc != 0) {
        errno = -rc;
        return fail("seccomp");
    }
    return 0;
}
