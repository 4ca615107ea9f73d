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

static json_t *block_json(struct vm *vm)
{
	json_t *o = json_object();

	for (unsigned i = 0; o && i < vm->nr_blk; i++) {
		const struct vblk_stats *s = vblk_stats(vm->blk[i]);

		json_object_set_new(
		    o, vblk_drive_id(vm->blk[i]),
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "read_count",
			      (json_int_t)s->reads, "write_count", (json_int_t)s->writes,
			      "flush_count", (json_int_t)s->flushes, "other_count",
			      (json_int_t)s->others, "read_bytes", (json_int_t)s->read_bytes,
			      "write_bytes", (json_int_t)s->write_bytes, "errors",
			      (json_int_t)s->errors));
	}
	return o;
}

static json_t *net_json(struct vm *vm)
{
	json_t *o = json_object();

	for (unsigned i = 0; o && i < vm->nr_net; i++) {
		const struct vnet_stats *s = vnet_stats(vm->net[i]);

		json_object_set_new(
		    o, vnet_get_config(vm->net[i])->iface_id,
		    json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "rx_packets_count",
			      (json_int_t)s->rx_frames, "rx_bytes_count", (json_int_t)s->rx_bytes,
			      "rx_dropped",
			      (json_int_t)(s->rx_dropped_short + s->rx_dropped_long +
					   s->rx_dropped_small_buf + s->rx_bad_chain),
			      "tx_packets_count", (json_int_t)s->tx_frames, "tx_bytes_count",
			      (json_int_t)s->tx_bytes, "tx_dropped",
			      (json_int_t)(s->tx_dropped_short + s->tx_dropped_long +
					   s->tx_bad_chain + s->tx_bad_header)));
	}
	return o;
}

static json_t *vsock_json(struct vm *vm)
{
	const struct vsock_stats *s;

	if (!vm->vsock)
		return json_null();
	s = vsock_stats(vm->vsock);
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}", "rx_packets_count",
			 (json_int_t)s->rx_pkts, "tx_packets_count", (json_int_t)s->tx_pkts,
			 "rx_bytes_count", (json_int_t)s->rx_bytes, "tx_bytes_count",
			 (json_int_t)s->tx_bytes, "tx_malformed",
			 (json_int_t)(s->tx_malformed + s->tx_bad_addr + s->tx_bad_pkt), "rst_sent",
			 (json_int_t)s->rst_sent, "conns_opened", (json_int_t)s->conns_opened,
			 "conns_refused", (json_int_t)s->conns_refused);
}

char *metrics_line(struct vm *vm, const struct metrics_api *api)
{
	struct timespec now;
	json_t *o;
	char *s, *line = NULL;
	size_t n;

	clock_gettime(CLOCK_REALTIME, &now);
	o = json_pack("{s:I, s:{s:I, s:I, s:I, s:I}, s:{s:s, s:i}}", "utc_timestamp_ms",
		      (json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000, "api_server",
		      "requests", (json_int_t)api->requests, "errors", (json_int_t)api->errors,
		      "latency_us_avg",
		      (json_int_t)(api->requests ? api->latency_us_sum / api->requests : 0),
		      "latency_us_max", (json_int_t)api->latency_us_max, "vmm", "state",
		      !vm	      ? "Not started"
		      : vm_paused(vm) ? "Paused"
				      : "Running",
		      "vcpus", vm ? (int)vm->nr_vcpus : 0);
	if (o)
		json_object_set_new(o, "seccomp",
				    json_pack("{s:I}", "faults", (json_int_t)seccomp_faults()));
	if (o && vm) {
		json_object_set_new(o, "vcpu", vcpu_json(vm));
		json_object_set_new(o, "block", block_json(vm));
		json_object_set_new(o, "net", net_json(vm));
		json_object_set_new(o, "vsock", vsock_json(vm));
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
