// SPDX-License-Identifier: Apache-2.0
/*
 * The metrics line: what FlushMetrics, the periodic flush and ember's exit
 * write to metrics_path.  Counters are read without stopping anything, so a
 * line is a moment's view, not a consistent snapshot: the same contract as
 * Firecracker's metrics.  Device counters are written on the VMM thread,
 * which is also where this runs; vCPU exit counters are relaxed atomics.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "mmds_net.h"
#include "seccomp.h"

static json_t *vcpu_json(struct vm *vm)
{
	uint64_t io = 0, mmio = 0, other = 0;

	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		io += __atomic_load_n(&vm->vcpus[i].exits_io, __ATOMIC_RELAXED);
		mmio += __atomic_load_n(&vm->vcpus[i].exits_mmio, __ATOMIC_RELAXED);
		other += __atomic_load_n(&vm->vcpus[i].exits_other, __ATOMIC_RELAXED);
	}
	return json_pack("{s:I, s:I, s:I}", "exit_io", (json_int_t)io, "exit_mmio",
			 (json_int_t)mmio, "kicked", (json_int_t)other);
}

/*
 * Each device type's counters under its metrics_key: an object of id ->
 * counters ("block": {"rootfs": {...}}), or for a one-per-VM type the
 * counters themselves, null when the VM has none.
 */
static void devices_json(struct vm *vm, json_t *o)
{
	for (unsigned i = 0; i < vdev_type_count(); i++) {
		const struct vdev_type *t = vdev_type_at(i);
		json_t *v = t->metrics_one ? json_null() : json_object();

		if (!t->metrics)
			continue;
		for (unsigned d = 0; v && d < vm->nr_devs; d++) {
			const struct vm_dev *dev = &vm->dev[d];

			if (dev->type != t)
				continue;
			if (t->metrics_one) {
				json_decref(v);
				v = t->metrics(dev->dev);
			} else {
				json_object_set_new(v, t->id(t->config(dev->dev)),
						    t->metrics(dev->dev));
			}
		}
		json_object_set_new(o, t->metrics_key, v);
	}
}

/* Firecracker's "mmds" group: the NICs' MMDS stacks summed. */
static json_t *mmds_json(struct vm *vm)
{
	const struct mmds_net *nets[MAX_VIRTIO_DEVS];
	unsigned n = 0;

	for (unsigned d = 0; d < vm->nr_devs; d++) {
		const struct vm_dev *dev = &vm->dev[d];

		if (dev->type->mmds && dev->type->mmds(dev->dev))
			nets[n++] = dev->type->mmds(dev->dev);
	}
	return mmds_net_metrics(vm->cfg->mmds, nets, n);
}

char *metrics_line(struct vm *vm, const struct metrics_api *api)
{
	struct timespec now;
	json_t *o;
	char *s, *line = NULL;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	/* Where Firecracker puts them: after the timestamp, before the counters. */
	o = json_pack("{s:I}", "utc_timestamp_ms",
		      (json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
	if (o && api->id)
		json_object_set_new(o, "id", json_string(api->id));
	if (o && api->properties)
		json_object_set_new(o, "properties", json_loads(api->properties, 0, NULL));
	if (o)
		json_object_update_new(
		    o,
		    json_pack("{s:{s:I, s:I, s:I, s:I}, s:{s:s, s:i}}", "api_server", "requests",
			      (json_int_t)api->requests, "errors", (json_int_t)api->errors,
			      "latency_us_avg",
			      (json_int_t)(api->requests ? api->latency_us_sum / api->requests : 0),
			      "latency_us_max", (json_int_t)api->latency_us_max, "vmm", "state",
			      !vm		 ? "Not started"
			      : vcpus_paused(vm) ? "Paused"
						 : "Running",
			      "vcpus", vm ? (int)vm->nr_vcpus : 0));
	if (o) {
		json_t *srv = json_object_get(o, "api_server");

		json_object_set_new(srv, "process_startup_time_us",
				    json_integer((json_int_t)api->startup_us));
		json_object_set_new(srv, "process_startup_time_cpu_us",
				    json_integer((json_int_t)api->startup_cpu_us));
	}
	if (o)
		json_object_set_new(o, "seccomp",
				    json_pack("{s:I}", "faults", (json_int_t)seccomp_faults()));
	if (o && vm) {
		json_object_set_new(o, "vcpu", vcpu_json(vm));
		json_object_set_new(
		    o, "console",
		    json_pack(
			"{s:I, s:I}", "output_bytes",
			(json_int_t)__atomic_load_n(&vm->serial.out_written, __ATOMIC_RELAXED),
			"output_dropped",
			(json_int_t)__atomic_load_n(&vm->serial.out_dropped, __ATOMIC_RELAXED)));
		/* Firecracker's name for what its serial rate limiter dropped. */
		json_object_set_new(o, "uart",
				    json_pack("{s:I}", "rate_limiter_dropped_bytes",
					      (json_int_t)__atomic_load_n(
						  &vm->serial.out_rate_dropped, __ATOMIC_RELAXED)));
		devices_json(vm, o);
		json_object_set_new(o, "mmds", mmds_json(vm));
	}
	s = o ? json_dumps(o, JSON_COMPACT) : NULL;
	json_decref(o);
	if (!s)
		return NULL;
	n = strlen(s);
	line = malloc(n + 2);
	if (line) {
		memcpy(line, s, n);
		memcpy(line + n, "\n", 2);
	}
	free(s);
	return line;
}
