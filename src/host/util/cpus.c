/* cpus.c - the usable CPU count (cpus.h). */
#include "host/util/cpus.h"

#include <sched.h>
#include <unistd.h>

unsigned cpus_usable(unsigned max) {
    cpu_set_t set;
    long n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1) n = 1;
    if (max && n > (long)max) n = (long)max;
    return (unsigned)n;
}
