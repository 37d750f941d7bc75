/* cpu_priority.h - how much of the CPU an enclave process gets next to the
 * host and the other enclaves.
 *
 * Every enclave starts in a session of its own (launcher.c), so with the
 * kernel's autogroup scheduling all its threads compete for the CPU as one
 * group: a tenant's enclave counts once, however many of its threads spin.
 * On top of that the scheduler's watchdog (watchdog.c) moves an enclave to
 * background priority (its autogroup's nice value 19) while it runs an
 * activation longer than a threshold and another enclave has short work,
 * and back to 0 otherwise: short requests of other tenants go first, and
 * long ones still get every idle cycle.
 * Raising or resetting an autogroup's nice value to 0..19 needs no
 * privilege. Autogroups take effect only for processes in the root cpu
 * cgroup (docs/architecture.md, "CPU between tenants"). */
#ifndef TFAAS_HOST_SCHEDULER_CPU_PRIORITY_H
#define TFAAS_HOST_SCHEDULER_CPU_PRIORITY_H

#include <stddef.h>
#include <sys/types.h>

#define CPU_PRIORITY_BACKGROUND_NICE 19
#define CPU_PRIORITY_DEFAULT_AFTER_MS 50u /* tfaas serve --cpu-background-after */

/* The server's scheduling policy (tfaas serve --cpu-policy), set on the
 * calling thread before any other thread or enclave exists: threads inherit
 * it at creation and processes across fork and execve. With batch
 * (SCHED_BATCH), a thread or enclave the server wakes does not preempt the
 * running one: the HTTP thread hands a burst of requests to an enclave, and
 * the enclave answers the whole burst, with one switch instead of one per
 * request (docs/architecture.md, "Wake-ups"). 0, or -1 with errno. */
int cpu_priority_policy(int batch);

/* 1 when enclave priorities take effect on this machine; 0 with the reason
 * in why (NUL-terminated) when they do not. */
int cpu_priority_available(char *why, size_t why_size);
/* Moves process pid's autogroup to background (1) or normal (0) priority.
 * 0 on success or when the process is already gone; -1 with errno. */
int cpu_priority_set(pid_t pid, int background);

#endif
