/* cpu_priority.c - enclave CPU priority through the kernel's autogroups
 * (cpu_priority.h). */
#include "host/scheduler/cpu_priority.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The first line of a small procfs/sysfs file, newline stripped; -1 if it
 * cannot be read. */
static int read_line(const char *path, char *buf, size_t size) {
    FILE *f = fopen(path, "re");
    if (!f) return -1;
    char *got = fgets(buf, (int)size, f);
    fclose(f);
    if (!got) return -1;
    buf[strcspn(buf, "\n")] = '\0';
    return 0;
}

/* 1 when a comma-separated controller list names "cpu" itself. */
static int names_cpu(const char *list, size_t len) {
    while (len) {
        const char *comma = memchr(list, ',', len);
        size_t n = comma ? (size_t)(comma - list) : len;
        if (n == 3 && memcmp(list, "cpu", 3) == 0) return 1;
        if (!comma) break;
        len -= n + 1;
        list = comma + 1;
    }
    return 0;
}

/* Autogroups apply to tasks in the root cpu task group only. With cgroup
 * v1 that is a "cpu" hierarchy path of "/"; with v2 it is a cgroup without
 * the cpu controller (no cpu.weight file). *why says which one failed. */
static int in_root_cpu_group(char *why, size_t why_size) {
    FILE *f = fopen("/proc/self/cgroup", "re");
    if (!f) {
        snprintf(why, why_size, "cannot read /proc/self/cgroup: %s", strerror(errno));
        return 0;
    }
    char line[4096], v2_path[4096] = "";
    int v1_cpu = 0, v1_root = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        char *c1 = strchr(line, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
        if (!c2) continue;
        const char *controllers = c1 + 1, *path = c2 + 1;
        size_t clen = (size_t)(c2 - controllers);
        if (clen == 0) {
            snprintf(v2_path, sizeof v2_path, "%s", path);
        } else if (names_cpu(controllers, clen)) {
            v1_cpu = 1;
            v1_root = strcmp(path, "/") == 0;
        }
    }
    fclose(f);
    if (v1_cpu) {
        if (!v1_root) snprintf(why, why_size, "the server runs in a cpu cgroup of its own, where autogroups do not apply");
        return v1_root;
    }
    char weight[4200];
    snprintf(weight, sizeof weight, "/sys/fs/cgroup%s%scpu.weight", v2_path,
             v2_path[0] && v2_path[strlen(v2_path) - 1] == '/' ? "" : "/");
    if (access(weight, F_OK) == 0) {
        snprintf(why, why_size, "the server's cgroup has the cpu controller (%s), where autogroups do not apply",
                 weight);
        return 0;
    }
    return 1;
}

int cpu_priority_available(char *why, size_t why_size) {
    char v[16];
    if (why_size) why[0] = '\0';
    if (read_line("/proc/sys/kernel/sched_autogroup_enabled", v, sizeof v) < 0) {
        snprintf(why, why_size, "the kernel has no autogroup scheduling");
        return 0;
    }
    if (strcmp(v, "1") != 0) {
        snprintf(why, why_size, "autogroup scheduling is off (kernel.sched_autogroup_enabled = %s)", v);
        return 0;
    }
    return in_root_cpu_group(why, why_size);
}

int cpu_priority_set(pid_t pid, int background) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/autogroup", (int)pid);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT || errno == ESRCH ? 0 : -1;
    char nice[8];
    int len = snprintf(nice, sizeof nice, "%d\n", background ? CPU_PRIORITY_BACKGROUND_NICE : 0);
    ssize_t n = write(fd, nice, (size_t)len);
    int e = errno;
    close(fd);
    if (n < 0) {
        errno = e;
        return e == ESRCH ? 0 : -1;
    }
    return 0;
}

int cpu_priority_policy(int batch) {
    struct sched_param none = {.sched_priority = 0};
    return sched_setscheduler(0, batch ? SCHED_BATCH : SCHED_OTHER, &none);
}
