/* SPDX-License-Identifier: Apache-2.0 */
/* The bench probes' clock (restoretime.c, serialtime.c): microseconds, monotonic. */
#ifndef EMBER_BENCH_CLOCK_H
#define EMBER_BENCH_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

#endif
