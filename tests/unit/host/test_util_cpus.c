/* test_util_cpus.c - the usable CPU count follows the affinity mask (a
 * server pinned with taskset sizes its thread pools to its CPUs). */
#include "check.h"
#include "host/util/cpus.h"

#include <sched.h>
#include <unistd.h>

int main(void) {
    cpu_set_t all;
    CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
    CHECK(cpus_usable(0) == (unsigned)CPU_COUNT(&all));
    CHECK(cpus_usable(1) == 1);
    /* pinned to one CPU: one, whatever the machine has */
    int first = 0;
    while (first < CPU_SETSIZE && !CPU_ISSET(first, &all)) first++;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(first, &one);
    CHECK(sched_setaffinity(0, sizeof one, &one) == 0);
    CHECK(cpus_usable(0) == 1);
    CHECK(sched_setaffinity(0, sizeof all, &all) == 0);
    return CHECK_DONE();
}
