/* cpus.h - how many CPUs this process may run on: its affinity mask
 * (taskset, a cgroup cpuset), not the machine's count, so that thread pools
 * sized from it do not outnumber the CPUs they share. */
#ifndef TFAAS_HOST_UTIL_CPUS_H
#define TFAAS_HOST_UTIL_CPUS_H
/* At least 1, at most max (max 0: no cap). */
unsigned cpus_usable(unsigned max);
#endif
