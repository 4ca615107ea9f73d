// SPDX-License-Identifier: Apache-2.0
/*
 * Fuzz target for the API's JSON layer: requests built straight from the
 * input (no HTTP framing to get through, fuzz_http.c does that), routed by
 * api_handle with one api_state kept across the requests of an input, so a
 * body reaches the handlers in every VM state: before InstanceStart, running,
 * paused, restored.  The "VMM" says yes or no as the input says.
 *
 * Beyond not crashing, every answer must keep the API's contract: a status
 * ember uses, an error body that is JSON with a string fault_message (what
 * Firecracker's clients print), a GET's 200 body that is JSON.  A broken
 * contract aborts.
 *
 * Input: records of u8 route (index into routes[]), u8 verdict (bit 0: the
 * VMM fails the command, bit 1: with a message), u16 LE body length, body.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api.h"
#include "http.h"

#define FUZZ_DICT "\": {}[],0123456789-truefalsenull"
#define FUZZ_HAVE_SEEDS
#define FUZZ_HAVE_REPORT
#include "driver.h"

static const struct {
	enum http_method m;
	const char *path;
} routes[] = {
    {HTTP_GET, "/"},
    {HTTP_GET, "/version"},
    {HTTP_GET, "/vm/config"},
    {HTTP_GET, "/machine-config"},
    {HTTP_PATCH, "/vm"},
    {HTTP_PUT, "/actions"},
    {HTTP_PUT, "/boot-source"},
    {HTTP_PUT, "/machine-config"},
    {HTTP_PATCH, "/machine-config"},
    {HTTP_PUT, "/drives/rootfs"},
    {HTTP_PUT, "/drives/scratch"},
    {HTTP_PATCH, "/drives/rootfs"},
    {HTTP_PUT, "/network-interfaces/eth0"},
    {HTTP_PATCH, "/network-interfaces/eth0"},
    {HTTP_PUT, "/vsock"},
    {HTTP_PUT, "/logger"},
    {HTTP_PUT, "/metrics"},
    {HTTP_PUT, "/snapshot/create"},
    {HTTP_PUT, "/snapshot/load"},
    {HTTP_PUT, "/entropy"},
    {HTTP_PUT, "/serial"},
    {HTTP_PUT, "/balloon"},
    {HTTP_PATCH, "/balloon"},
    {HTTP_GET, "/balloon/statistics"},
    {HTTP_PATCH, "/balloon/statistics"},
    {HTTP_PATCH, "/balloon/hinting/start"},
    {HTTP_PUT, "/mmds"},
    {HTTP_GET, "/mmds"},
    {HTTP_PUT, "/cpu-config"},
    {HTTP_PUT, "/drives/"},
    {HTTP_PUT, "/drives/a/b"},
    {HTTP_GET, "/nope"},
};
#define NR_ROUTES (sizeof(routes) / sizeof(routes[0]))

/* How far inputs went: make fuzz fails if the seeds stop getting this far. */
static struct {
	size_t requests, ok, faults, started, snapshots_loaded;
} depth;

/* The contract every answer keeps, whatever was asked. */
static void check_response(const struct http_request *req, const struct api_response *resp)
{
	json_t *j = NULL;
	bool ok = true;

	if (resp->status < 200 || resp->status > 599 || !http_reason(resp->status))
		ok = false;
	if (resp->body) {
		j = json_loads(resp->body, 0, NULL);
		ok = ok && j;
	}
	if (resp->status >= 400) {
		ok = ok && j && json_is_string(json_object_get(j, "fault_message"));
		depth.faults++;
	} else {
		ok = ok && (req->method != HTTP_GET || j);
		depth.ok++;
	}
	json_decref(j);
	if (!ok) {
		fprintf(stderr, "fuzz_api: %s %s -> %d %s\n", http_method_name(req->method),
			req->path, resp->status, resp->body ? resp->body : "(no body)");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_state st; /* large; reset every input */
	size_t off = 0;

	api_state_init(&st, NULL);
	while (size - off >= 4) {
		struct http_request req = {.keep_alive = true};
		struct api_response resp = {0};
		struct api_cmd cmd;
		uint8_t route = data[off], verdict = data[off + 1];
		size_t len = data[off + 2] | (size_t)data[off + 3] << 8;

		off += 4;
		len = len < size - off ? len : size - off;
		req.method = routes[route % NR_ROUTES].m;
		snprintf(req.path, sizeof(req.path), "%s", routes[route % NR_ROUTES].path);
		if (len) {
			req.body = malloc(len + 1);
			if (!req.body)
				return 0;
			memcpy(req.body, data + off, len);
			req.body[len] = '\0';
			req.body_len = len;
		}
		off += len;
		depth.requests++;
		if (api_handle(&st, &req, &resp, &cmd) == API_EXEC) {
			bool fail = verdict & 1;

			depth.started += cmd.kind == API_CMD_START && !fail;
			depth.snapshots_loaded += cmd.kind == API_CMD_SNAPSHOT_LOAD && !fail;
			api_complete(&st, &cmd, fail ? -EINVAL : 0,
				     verdict & 2 ? "vmm said no" : "", &resp);
		}
		check_response(&req, &resp);
		api_response_free(&resp);
		free(req.body);
	}
	return 0;
}

#ifndef EMBER_LIBFUZZER
static int fuzz_report(void)
{
	printf("fuzz_api: %zu requests, %zu answered 2xx, %zu faults, %zu InstanceStarts and "
	       "%zu snapshot loads the VMM accepted\n",
	       depth.requests, depth.ok, depth.faults, depth.started, depth.snapshots_loaded);
	return !depth.ok || !depth.faults || !depth.started || !depth.snapshots_loaded;
}

struct seed_req {
	const char *path;
	enum http_method m;
	const char *body;
};

static unsigned route_of(enum http_method m, const char *path)
{
	for (unsigned i = 0; i < NR_ROUTES; i++)
		if (routes[i].m == m && !strcmp(routes[i].path, path))
			return i;
	abort(); /* a seed names a route the table lacks */
}

static void seed_build(struct fuzz_seed *s, const char *name, const struct seed_req *r, unsigned n)
{
	size_t len = 0;

	for (unsigned i = 0; i < n; i++)
		len += 4 + (r[i].body ? strlen(r[i].body) : 0);
	*s = (struct fuzz_seed){.name = name, .data = malloc(len), .len = len};
	if (!s->data)
		abort();
	len = 0;
	for (unsigned i = 0; i < n; i++) {
		size_t b = r[i].body ? strlen(r[i].body) : 0;

		s->data[len++] = (uint8_t)route_of(r[i].m, r[i].path);
		s->data[len++] = 0;
		s->data[len++] = (uint8_t)b;
		s->data[len++] = (uint8_t)(b >> 8);
		if (b)
			memcpy(s->data + len, r[i].body, b);
		len += b;
	}
}

/* What firecracker-go-sdk and firectl send, in their order. */
static const struct seed_req boot[] = {
    {"/logger", HTTP_PUT, "{\"log_path\":\"/l\",\"level\":\"Debug\",\"show_level\":true}"},
    {"/metrics", HTTP_PUT, "{\"metrics_path\":\"/m\"}"},
    {"/boot-source", HTTP_PUT,
     "{\"kernel_image_path\":\"/k\",\"boot_args\":\"console=ttyS0 reboot=k\"}"},
    {"/drives/rootfs", HTTP_PUT,
     "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/r\",\"is_root_device\":true,"
     "\"is_read_only\":false,\"rate_limiter\":{\"bandwidth\":{\"size\":1048576,"
     "\"refill_time\":1000},\"ops\":{\"size\":100,\"one_time_burst\":10,\"refill_time\":100}}}"},
    {"/network-interfaces/eth0", HTTP_PUT,
     "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\",\"guest_mac\":\"06:00:ac:10:00:02\","
     "\"rx_rate_limiter\":{\"bandwidth\":{\"size\":1000,\"refill_time\":10}}}"},
    {"/vsock", HTTP_PUT, "{\"guest_cid\":3,\"uds_path\":\"/v.sock\"}"},
    {"/entropy", HTTP_PUT,
     "{\"rate_limiter\":{\"bandwidth\":{\"size\":4096,\"refill_time\":1000}}}"},
    {"/cpu-config", HTTP_PUT,
     "{\"kvm_capabilities\":[\"171\",\"!172\"],\"cpuid_modifiers\":[{\"leaf\":\"0x1\","
     "\"subleaf\":\"0x0\",\"flags\":0,\"modifiers\":[{\"register\":\"ecx\",\"bitmap\":"
     "\"0bxxxxxx0x_xxxx\"}]}],\"msr_modifiers\":[{\"addr\":\"0x10a\",\"bitmap\":\"0b1x0\"}]}"},
    {"/serial", HTTP_PUT,
     "{\"serial_out_path\":\"/s.log\",\"rate_limiter\":{\"size\":64,\"refill_time\":10}}"},
    {"/machine-config", HTTP_PUT,
     "{\"vcpu_count\":2,\"mem_size_mib\":256,\"smt\":false,\"track_dirty_pages\":true}"},
    {"/machine-config", HTTP_PATCH, "{\"mem_size_mib\":512}"},
    {"/vm/config", HTTP_GET, NULL},
    {"/actions", HTTP_PUT, "{\"action_type\":\"InstanceStart\"}"},
    {"/drives/rootfs", HTTP_PATCH, "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/r2\"}"},
    {"/network-interfaces/eth0", HTTP_PATCH,
     "{\"iface_id\":\"eth0\",\"tx_rate_limiter\":{\"ops\":{\"size\":5,\"refill_time\":10}}}"},
    {"/vm", HTTP_PATCH, "{\"state\":\"Paused\"}"},
    {"/snapshot/create", HTTP_PUT,
     "{\"snapshot_type\":\"Diff\",\"snapshot_path\":\"/s\",\"mem_file_path\":\"/mem\"}"},
    {"/vm", HTTP_PATCH, "{\"state\":\"Resumed\"}"},
    {"/actions", HTTP_PUT, "{\"action_type\":\"FlushMetrics\"}"},
    {"/actions", HTTP_PUT, "{\"action_type\":\"SendCtrlAltDel\"}"},
    {"/", HTTP_GET, NULL},
};

/* A clone: snapshot load with overrides, then a look around. */
static const struct seed_req restore[] = {
    {"/snapshot/load", HTTP_PUT,
     "{\"snapshot_path\":\"/s\",\"mem_backend\":{\"backend_type\":\"Uffd\","
     "\"backend_path\":\"/uffd.sock\"},\"enable_diff_snapshots\":true,\"resume_vm\":true,"
     "\"network_overrides\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap7\"}],"
     "\"vsock_override\":{\"uds_path\":\"/v2.sock\"}}"},
    {"/vm/config", HTTP_GET, NULL},
    {"/drives/rootfs", HTTP_PATCH, "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/r3\"}"},
    {"/machine-config", HTTP_GET, NULL},
    {"/balloon", HTTP_PUT, "{\"amount_mib\":1,\"deflate_on_oom\":true}"},
};

static unsigned fuzz_seeds(struct fuzz_seed *s, unsigned max)
{
	if (max < 2)
		abort();
	seed_build(&s[0], "boot-pause-snapshot", boot, sizeof(boot) / sizeof(boot[0]));
	seed_build(&s[1], "restore-clone", restore, sizeof(restore) / sizeof(restore[0]));
	return 2;
}
#endif
