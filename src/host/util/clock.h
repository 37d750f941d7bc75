/* clock.h - the two clocks the host uses: wall time for records, monotonic
 * time for durations and deadlines. */
#ifndef TFAAS_HOST_UTIL_CLOCK_H
#define TFAAS_HOST_UTIL_CLOCK_H
#include <stdint.h>
#include <time.h>
int64_t clock_wall_ms(void);  /* ms since the Unix epoch */
uint64_t clock_mono_us(void); /* µs on CLOCK_MONOTONIC */
/* CLOCK_MONOTONIC now + ms, as an absolute time for pthread_cond_timedwait
 * on a condition variable set to that clock. */
struct timespec clock_mono_deadline(uint64_t ms);
struct timespec clock_mono_deadline_us(uint64_t us);
#endif
