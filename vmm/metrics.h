/* SPDX-License-Identifier: Apache-2.0 */
#ifndef EMBER_METRICS_H
#define EMBER_METRICS_H

#include "vm.h"

/* What the API thread counts (api_mode.c). */
struct metrics_api {
	unsigned long requests, errors;
	unsigned long latency_us_sum, latency_us_max; /* since ember started */
	/* Firecracker's optional top-level fields: "id" (emit_id) and
	 * "properties" (a JSON object's text); NULL: not written. */
	const char *id, *properties;
	/* Firecracker's process_startup_time_us / _cpu_us: from the jailer's
	 * --start-time-us / --start-time-cpu-us to the API socket's readiness
	 * (plus --parent-cpu-time-us); 0 without those flags. */
	uint64_t startup_us, startup_cpu_us;
};

/*
 * One JSON line of counters, Firecracker style: api_server, vmm state,
 * seccomp faults, vcpu exits, then per device (block by drive_id, net by iface_id, vsock).
 * @vm NULL before the VM exists.  malloc'ed, NUL-terminated, ending in a
 * newline; NULL when out of memory.
 */
char *metrics_line(struct vm *vm, const struct metrics_api *api);

#endif /* EMBER_METRICS_H */
