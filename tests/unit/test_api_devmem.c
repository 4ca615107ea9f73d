// SPDX-License-Identifier: Apache-2.0
/*
 * Devices with memory of their own.  PUT /pmem/{id}: Firecracker's Pmem
 * object, its rules (id in the path and the body, one root device across
 * drives and pmem, pre-boot only), the "pmem" list of GET /vm/config and
 * --config-file, and its trip to the device model's settings and back.
 * /hotplug/memory: PUT's size rules before the start, PATCH and GET as
 * commands for the VMM thread after it, the "memory-hotplug" section.
 */
#include <jansson.h>
#include <stdio.h>
#include <unistd.h>

#include "unit.h"

#include "api.h"
#include "cmdq.h"
#include "device.h"
#include "mem.h"
#include "pmem.h"

#include "api_client.h"

#define PMEM(id, path, extra) "{\"id\":\"" id "\",\"path_on_host\":\"" path "\"" extra "}"

static void test_put_pmem(void **state)
{
	struct t *t = *state;
	json_t *o, *p;

	assert_int_equal(PUT("/pmem/pm0", PMEM("pm0", "/a", "")), 204);
	assert_int_equal(t->st.cfg.nr_pmem, 1);
	assert_true(t->st.boot_configured);
	/* The same id again replaces it. */
	assert_int_equal(PUT("/pmem/pm0", PMEM("pm0", "/b",
					       ",\"read_only\":true,"
					       "\"root_device\":true")),
			 204);
	assert_int_equal(t->st.cfg.nr_pmem, 1);
	assert_string_equal(t->st.cfg.pmem[0].path_on_host, "/b");
	assert_int_equal(PUT("/pmem/pm1", PMEM("pm1", "/c",
					       ",\"rate_limiter\":{\"ops\":{"
					       "\"size\":5,\"refill_time\":100}}")),
			 204);
	assert_int_equal(GET("/vm/config"), 200);
	o = body_json(t);
	p = json_object_get(o, "pmem");
	assert_int_equal(json_array_size(p), 2);
	assert_string_equal(
	    json_string_value(json_object_get(json_array_get(p, 0), "path_on_host")), "/b");
	assert_true(json_is_true(json_object_get(json_array_get(p, 0), "root_device")));
	assert_true(json_is_true(json_object_get(json_array_get(p, 0), "read_only")));
	assert_int_equal(
	    json_integer_value(json_object_get(
		json_object_get(json_object_get(json_array_get(p, 1), "rate_limiter"), "ops"),
		"size")),
	    5);
	json_decref(o);
}

static void test_put_pmem_refused(void **state)
{
	struct t *t = *state;

	FAULT(PUT("/pmem/pm0", PMEM("pm1", "/a", "")), "pm1");
	FAULT(PUT("/pmem/pm0", "{\"id\":\"pm0\"}"), "missing required field \"path_on_host\"");
	FAULT(PUT("/pmem/pm0", PMEM("pm0", "", "")), "\"path_on_host\" must not be empty");
	FAULT(PUT("/pmem/pm0", PMEM("pm0", "/a", ",\"root_device\":1")), "must be a boolean");
	FAULT(PUT("/pmem/pm0", PMEM("pm0", "/a", ",\"size\":1")), "unknown field \"size\"");
	FAULT(PUT("/pmem/pm0", PMEM("pm0", "/a",
				    ",\"rate_limiter\":{\"ops\":{\"size\":1,"
				    "\"refill_time\":0}}")),
	      "refill_time must be positive");
	FAULT(PUT("/pmem/p-0", PMEM("p-0", "/a", "")), "alphanumeric characters and underscores");
	assert_int_equal(t->st.cfg.nr_pmem, 0);
	assert_false(t->st.boot_configured);
	/* One root device, whether a drive or pmem. */
	assert_int_equal(PUT("/drives/rootfs", "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/r\","
					       "\"is_root_device\":true}"),
			 204);
	FAULT(PUT("/pmem/pm0", PMEM("pm0", "/a", ",\"root_device\":true")),
	      "the drive \"rootfs\" is the root device already");
	assert_int_equal(PUT("/drives/rootfs", "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/r\","
					       "\"is_root_device\":false}"),
			 204);
	assert_int_equal(PUT("/pmem/pm0", PMEM("pm0", "/a", ",\"root_device\":true")), 204);
	FAULT(PUT("/pmem/pm1", PMEM("pm1", "/a", ",\"root_device\":true")),
	      "a root pmem device already exists (\"pm0\")");
	for (unsigned i = 1; i < API_MAX_PMEM; i++) {
		char path[32], body[100];

		snprintf(path, sizeof(path), "/pmem/p%u", i);
		snprintf(body, sizeof(body), PMEM("p%u", "/a", ""), i);
		assert_int_equal(PUT(path, body), 204);
	}
	FAULT(PUT("/pmem/p99", PMEM("p99", "/a", "")), "at most 8 pmem devices");
	/* After the start: Firecracker's message. */
	start_vm(t);
	FAULT(PUT("/pmem/pm0", PMEM("pm0", "/a", "")), "not supported after starting");
}

/* PATCH /pmem/{id}: a new rate limiter for a running VM's device, through the VMM thread. */
static void test_patch_pmem(void **state)
{
	struct t *t = *state;
	static const char rl[] =
	    "{\"id\":\"pm0\",\"rate_limiter\":{\"ops\":{\"size\":7,\"refill_time\":100}}}";

	FAULT(PATCH("/pmem/pm0", rl), "before starting");
	assert_int_equal(PUT("/pmem/pm0", PMEM("pm0", "/a", "")), 204);
	start_vm(t);
	FAULT(PATCH("/pmem/pm1", rl), "pm0");
	FAULT(PATCH("/pmem/pm0", "{\"id\":\"pm0\",\"path_on_host\":\"/b\"}"), "unknown field");
	FAULT(PATCH("/pmem/pm0", "{\"rate_limiter\":{}}"), "missing required field \"id\"");
	FAULT(PATCH("/pmem/p9", "{\"id\":\"p9\",\"rate_limiter\":{}}"), "no pmem device");
	assert_int_equal(PATCH("/pmem/pm0", "{\"id\":\"pm0\"}"), 204); /* nothing to change */
	PATCH("/pmem/pm0", rl);
	assert_int_equal(t->cmd.kind, API_CMD_PATCH_PMEM);
	assert_string_equal(t->cmd.pmem.id, "pm0");
	assert_int_equal(complete(t, -ENOENT, "Invalid pmem device ID: pm0"), 400);
	assert_false(t->st.cfg.pmem[0].rate_limiter.set);
	PATCH("/pmem/pm0", rl);
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(t->st.cfg.pmem[0].rate_limiter.ops.size, 7);
}

/* The config document's list, and the device settings it becomes (and back). */
static void test_pmem_config(void **state)
{
	static const char doc[] =
	    "{\"pmem\":[{\"id\":\"a\",\"path_on_host\":\"/a\",\"root_device\":true,"
	    "\"read_only\":true},{\"id\":\"b\",\"path_on_host\":\"/b\"}]}";
	struct api_vm_config *cfg = malloc(sizeof(*cfg)), *back = malloc(sizeof(*back));
	struct vdev_configs *l = malloc(sizeof(*l));
	const struct vpmem_config *p;
	char err[256];

	(void)state;
	api_config_init(cfg);
	assert_int_equal(api_config_from_json(doc, strlen(doc), cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->nr_pmem, 2);
	assert_int_equal(api_devices_to_config(cfg, l, err, sizeof(err)), 0);
	assert_int_equal(l->nr, 2);
	assert_string_equal(l->dev[0].type->name, "pmem");
	p = (const void *)l->dev[0].data;
	assert_string_equal(p->id, "a");
	assert_true(p->root && p->read_only);
	assert_string_equal(l->dev[0].type->cmdline(p, NULL, 0), " root=/dev/pmem0 ro");
	api_config_init(back);
	api_devices_from_config(l, back);
	assert_int_equal(back->nr_pmem, 2);
	assert_string_equal(back->pmem[1].path_on_host, "/b");
	assert_false(back->pmem[1].root_device);
	/* Refused documents. */
	assert_int_not_equal(api_config_from_json("{\"pmem\":{}}", 11, cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "\"pmem\" must be an array"));
	{
		static const char twice[] = "{\"pmem\":[{\"id\":\"a\",\"path_on_host\":\"/a\"},"
					    "{\"id\":\"a\",\"path_on_host\":\"/b\"}]}";
		static const char roots[] =
		    "{\"drives\":[{\"drive_id\":\"r\",\"path_on_host\":\"/r\",\"is_root_device\":"
		    "true}],\"pmem\":[{\"id\":\"a\",\"path_on_host\":\"/"
		    "a\",\"root_device\":true}]}";

		assert_int_not_equal(
		    api_config_from_json(twice, strlen(twice), cfg, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "\"a\" twice"));
		assert_int_not_equal(
		    api_config_from_json(roots, strlen(roots), cfg, err, sizeof(err)), 0);
		assert_non_null(strstr(err, "root device already"));
	}
	free(cfg);
	free(back);
	free(l);
}

static void test_hotplug(void **state)
{
	struct t *t = *state;
	json_t *o;

	FAULT(GET("/hotplug/memory"), "Memory hotplug is not configured.");
	FAULT(PATCH("/hotplug/memory", "{\"requested_size_mib\":128}"), "before starting");
	/* Firecracker's rules, and its defaults (slot 128, block 2). */
	FAULT(PUT("/hotplug/memory", "{}"), "missing required field \"total_size_mib\"");
	FAULT(PUT("/hotplug/memory", "{\"total_size_mib\":100}"), "total_size_mib must be");
	FAULT(PUT("/hotplug/memory", "{\"total_size_mib\":1024,\"slot_size_mib\":64}"),
	      "slot_size_mib must be");
	FAULT(PUT("/hotplug/memory", "{\"total_size_mib\":1024,\"block_size_mib\":3}"),
	      "block_size_mib must be a power of two");
	FAULT(PUT("/hotplug/memory", "{\"total_size_mib\":1024,\"slot_size_mib\":130,"
				     "\"block_size_mib\":4}"),
	      "slot_size_mib must be");
	FAULT(PUT("/hotplug/memory", "{\"total_size_mib\":-1}"), "must be in");
	FAULT(PUT("/hotplug/memory", "{\"total_size_mib\":4294967296}"), "must be in");
	FAULT(PUT("/hotplug/memory", "{\"total_size_mib\":1024,\"requested_size_mib\":1}"),
	      "unknown field");
	assert_false(t->st.cfg.hotplug.set);
	assert_int_equal(PUT("/hotplug/memory", "{\"total_size_mib\":1024}"), 204);
	assert_int_equal(GET("/vm/config"), 200);
	o = body_json(t);
	assert_int_equal(json_integer_value(json_object_get(json_object_get(o, "memory-hotplug"),
							    "slot_size_mib")),
			 128);
	json_decref(o);
	FAULT(GET("/hotplug/memory"), "before starting");
	start_vm(t);
	FAULT(PUT("/hotplug/memory", "{\"total_size_mib\":1024}"), "after starting");
	FAULT(PATCH("/hotplug/memory", "{}"), "missing required field \"requested_size_mib\"");
	FAULT(PATCH("/hotplug/memory", "{\"requested_size_mib\":-2}"), "must be in");
	/* The size goes to the VMM thread; its verdict is the answer. */
	PATCH("/hotplug/memory", "{\"requested_size_mib\":512}");
	assert_int_equal(t->cmd.kind, API_CMD_HOTPLUG_PATCH);
	assert_int_equal(t->cmd.hotplug.requested_mib, 512);
	assert_int_equal(complete(t, 0, ""), 204);
	PATCH("/hotplug/memory", "{\"requested_size_mib\":2048}");
	assert_int_equal(complete(t, -EINVAL, "memory hotplug: requested_size_mib must be at most"),
			 400);
	GET("/hotplug/memory");
	assert_int_equal(t->cmd.kind, API_CMD_HOTPLUG_GET);
	snprintf(t->cmd.hotplug.body, sizeof(t->cmd.hotplug.body), "{\"plugged_size_mib\":0}");
	assert_int_equal(complete(t, 0, ""), 200);
	assert_string_equal(t->resp.body, "{\"plugged_size_mib\":0}");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_put_pmem, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_pmem_refused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_patch_pmem, setup, teardown),
	    cmocka_unit_test(test_pmem_config),
	    cmocka_unit_test_setup_teardown(test_hotplug, setup, teardown),
	};
	return cmocka_run_group_tests_name("api_devmem", tests, NULL, NULL);
}
