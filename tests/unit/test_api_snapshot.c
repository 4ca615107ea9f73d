// SPDX-License-Identifier: Apache-2.0
/* The router's snapshot endpoints: schema, state rules, and what a load commits. */
#include <jansson.h>
#include <stdio.h>

#include "unit.h"

#include "api.h"

#include "api_client.h"

static void pause_vm(struct t *t)
{
	PATCH("/vm", "{\"state\":\"Paused\"}");
	assert_int_equal(t->cmd.kind, API_CMD_PAUSE);
	assert_int_equal(complete(t, 0, ""), 204);
}

#define CREATE_OK "{\"snapshot_path\":\"/s/vm.snap\",\"mem_file_path\":\"/s/vm.mem\"}"

static void test_create_states(void **state)
{
	struct t *t = *state;

	FAULT(PUT("/snapshot/create", CREATE_OK), "not supported before starting the microVM");
	start_vm(t);
	FAULT(PUT("/snapshot/create", CREATE_OK),
	      "Cannot save the microVM state: Operation not allowed: save/restore unavailable "
	      "while running");
	pause_vm(t);
	PUT("/snapshot/create", CREATE_OK);
	assert_int_equal(t->res, API_EXEC);
	assert_int_equal(t->cmd.kind, API_CMD_SNAPSHOT_CREATE);
	assert_int_equal(t->cmd.snapshot_create.type, API_SNAPSHOT_FULL);
	assert_string_equal(t->cmd.snapshot_create.snapshot_path, "/s/vm.snap");
	assert_string_equal(t->cmd.snapshot_create.mem_file_path, "/s/vm.mem");
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(t->st.vm_state, API_VM_PAUSED);
	/* A failed write leaves the VM paused and says why. */
	PUT("/snapshot/create", CREATE_OK);
	FAULT(complete(t, -ENOSPC, "Cannot write memory file: No space left on device"),
	      "No space left on device");
	assert_int_equal(t->st.vm_state, API_VM_PAUSED);
	PUT("/snapshot/create", CREATE_OK);
	FAULT(complete(t, -EFBIG, ""), "File too large");
	/* Diff needs dirty page tracking. */
	FAULT(PUT("/snapshot/create", "{\"snapshot_path\":\"a\",\"mem_file_path\":\"b\","
				      "\"snapshot_type\":\"Diff\"}"),
	      "Diff snapshots are not allowed on uVMs with dirty page tracking disabled.");
	PUT("/snapshot/create", "{\"snapshot_path\":\"a\",\"mem_file_path\":\"b\","
				"\"snapshot_type\":\"Full\"}");
	assert_int_equal(complete(t, 0, ""), 204);
	/* Resumed again: no snapshot. */
	PATCH("/vm", "{\"state\":\"Resumed\"}");
	assert_int_equal(complete(t, 0, ""), 204);
	FAULT(PUT("/snapshot/create", CREATE_OK), "save/restore unavailable while running");
}

static void test_create_diff(void **state)
{
	struct t *t = *state;

	assert_int_equal(PUT("/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64,"
						"\"track_dirty_pages\":true}"),
			 204);
	start_vm(t);
	pause_vm(t);
	PUT("/snapshot/create", "{\"snapshot_path\":\"a\",\"mem_file_path\":\"b\","
				"\"snapshot_type\":\"Diff\"}");
	assert_int_equal(t->cmd.kind, API_CMD_SNAPSHOT_CREATE);
	assert_int_equal(t->cmd.snapshot_create.type, API_SNAPSHOT_DIFF);
	assert_int_equal(complete(t, 0, ""), 204);
}

static void test_create_schema(void **state)
{
	struct t *t = *state;
	char *longp = malloc(API_PATH_MAX + 64);

	start_vm(t);
	pause_vm(t);
	FAULT(PUT("/snapshot/create", "{\"mem_file_path\":\"b\"}"),
	      "snapshot-create: missing required field \"snapshot_path\".");
	FAULT(PUT("/snapshot/create", "{\"snapshot_path\":\"a\"}"),
	      "snapshot-create: missing required field \"mem_file_path\".");
	FAULT(PUT("/snapshot/create", "{\"snapshot_path\":\"\",\"mem_file_path\":\"b\"}"),
	      "\"snapshot_path\" must not be empty.");
	FAULT(PUT("/snapshot/create", "{\"snapshot_path\":1,\"mem_file_path\":\"b\"}"),
	      "\"snapshot_path\" must be a string.");
	FAULT(PUT("/snapshot/create", "{\"snapshot_path\":\"a\",\"mem_file_path\":\"b\","
				      "\"snapshot_type\":\"Partial\"}"),
	      "\"snapshot_type\" must be one of \"Full\", \"Diff\".");
	FAULT(PUT("/snapshot/create", "{\"snapshot_path\":\"a\",\"mem_file_path\":\"b\","
				      "\"snapshot_type\":\"full\"}"),
	      "\"snapshot_type\" must be one of");
	FAULT(PUT("/snapshot/create", "{\"snapshot_path\":\"a\",\"mem_file_path\":\"b\","
				      "\"version\":\"1.0.0\"}"),
	      "snapshot-create: \"version\" is not supported by ember.");
	FAULT(PUT("/snapshot/create", "{\"snapshot_path\":\"a\",\"mem_file_path\":\"b\","
				      "\"bogus\":1}"),
	      "snapshot-create: unknown field \"bogus\".");
	FAULT(PUT("/snapshot/create", "{\"snapshot_path\":\"a\",\"mem_file_path\":\"a\"}"),
	      "\"snapshot_path\" and \"mem_file_path\" must be different files.");
	FAULT(PUT("/snapshot/create", "[]"), "snapshot-create: expected a JSON object.");
	FAULT(PUT("/snapshot/create", NULL), "Empty PUT request.");
	memset(longp, 0, API_PATH_MAX + 64);
	strcpy(longp, "{\"mem_file_path\":\"b\",\"snapshot_path\":\"");
	memset(longp + strlen(longp), 'x', API_PATH_MAX);
	strcat(longp, "\"}");
	FAULT(PUT("/snapshot/create", longp), "\"snapshot_path\" is longer than 4095 bytes.");
	free(longp);
	/* Only PUT, only these two paths. */
	FAULT(GET("/snapshot/create"), "Invalid request method and/or path: GET snapshot/create");
	FAULT(PATCH("/snapshot/load", "{}"), "Invalid request method and/or path");
	FAULT(PUT("/snapshot", "{}"), "Invalid request method and/or path");
	FAULT(PUT("/snapshot/restore", "{}"), "Invalid request method and/or path");
	FAULT(PUT("/snapshot/create/x", "{}"), "Invalid request method and/or path");
	assert_int_equal(t->st.vm_state, API_VM_PAUSED);
}

#define LOAD_OK                                                                                    \
	"{\"snapshot_path\":\"/s/vm.snap\",\"mem_backend\":{\"backend_type\":\"File\","            \
	"\"backend_path\":\"/s/vm.mem\"}}"

static void test_load_ok(void **state)
{
	struct t *t = *state;
	struct api_snapshot_load *l = &t->cmd.snapshot_load;
	json_t *o;

	/* Logger and metrics may come first, as in Firecracker. */
	PUT("/logger", "{\"level\":\"Debug\"}");
	assert_int_equal(complete(t, 0, ""), 204);
	PUT("/snapshot/load", LOAD_OK);
	assert_int_equal(t->res, API_EXEC);
	assert_int_equal(l->backend, API_MEM_FILE);
	assert_string_equal(l->snapshot_path, "/s/vm.snap");
	assert_string_equal(l->mem_path, "/s/vm.mem");
	assert_false(l->resume_vm);
	assert_false(l->track_dirty_pages);
	assert_false(l->clock_realtime);
	assert_int_equal(l->nr_net_overrides, 0);
	assert_false(l->has_vsock_override);
	assert_non_null(l->restored);
	assert_int_equal(l->restored->machine.vcpu_count, 1); /* api_config_init defaults */
	/* The VMM restored a 2-vCPU VM with a drive: the API now shows it. */
	l->restored->machine.vcpu_count = 2;
	l->restored->machine.mem_size_mib = 256;
	l->restored->nr_drives = 1;
	strcpy(l->restored->drives[0].drive_id, "rootfs");
	strcpy(l->restored->drives[0].path_on_host, "/clone/rootfs.ext4");
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(t->st.vm_state, API_VM_PAUSED); /* resume_vm false */
	assert_int_equal(GET("/"), 200);
	assert_non_null(strstr(t->resp.body, "\"state\":\"Paused\""));
	assert_int_equal(GET("/machine-config"), 200);
	o = json_loads(t->resp.body, 0, NULL);
	assert_int_equal(json_integer_value(json_object_get(o, "vcpu_count")), 2);
	json_decref(o);
	/* The restored drive can be patched; a second load cannot happen. */
	PATCH("/drives/rootfs", "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/other\"}");
	assert_int_equal(t->cmd.kind, API_CMD_PATCH_DRIVE);
	assert_int_equal(complete(t, 0, ""), 204);
	FAULT(PUT("/snapshot/load", LOAD_OK), "not supported after starting the microVM");
	FAULT(PUT("/boot-source", "{\"kernel_image_path\":\"/k\"}"), "after starting");
	PATCH("/vm", "{\"state\":\"Resumed\"}");
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(t->st.vm_state, API_VM_RUNNING);
}

static void test_load_resume_and_options(void **state)
{
	struct t *t = *state;
	struct api_snapshot_load *l = &t->cmd.snapshot_load;

	PUT("/snapshot/load",
	    "{\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_type\":\"Uffd\","
	    "\"backend_path\":\"/run/uffd.sock\"},\"resume_vm\":true,\"track_dirty_pages\":true,"
	    "\"clock_realtime\":true,\"network_overrides\":[{\"iface_id\":\"eth0\","
	    "\"host_dev_name\":\"tap7\"},{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap8\"}],"
	    "\"vsock_override\":{\"uds_path\":\"/c7/v.sock\"}}");
	assert_int_equal(t->res, API_EXEC);
	assert_int_equal(l->backend, API_MEM_UFFD);
	assert_string_equal(l->mem_path, "/run/uffd.sock");
	assert_true(l->resume_vm);
	assert_true(l->track_dirty_pages);
	assert_true(l->clock_realtime);
	assert_int_equal(l->nr_net_overrides, 2);
	assert_string_equal(l->net_overrides[1].iface_id, "eth1");
	assert_string_equal(l->net_overrides[1].host_dev_name, "tap8");
	assert_true(l->has_vsock_override);
	assert_string_equal(l->vsock_uds_path, "/c7/v.sock");
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(t->st.vm_state, API_VM_RUNNING);
	assert_true(t->st.cfg.machine.track_dirty_pages); /* from the request */
	/* Now a Diff snapshot is allowed. */
	pause_vm(t);
	PUT("/snapshot/create", "{\"snapshot_path\":\"a\",\"mem_file_path\":\"b\","
				"\"snapshot_type\":\"Diff\"}");
	assert_int_equal(complete(t, 0, ""), 204);
}

static void test_load_legacy_and_failure(void **state)
{
	struct t *t = *state;
	struct api_snapshot_load *l = &t->cmd.snapshot_load;

	/* Deprecated spellings: mem_file_path, enable_diff_snapshots. */
	PUT("/snapshot/load", "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\","
			      "\"enable_diff_snapshots\":true,\"track_dirty_pages\":false}");
	assert_int_equal(t->res, API_EXEC);
	assert_int_equal(l->backend, API_MEM_FILE);
	assert_string_equal(l->mem_path, "m");
	assert_true(l->track_dirty_pages);
	/* A refused snapshot: 400 with the reader's message, nothing committed. */
	FAULT(complete(t, -EINVAL, "state file is corrupt: CRC64 0 does not match"),
	      "state file is corrupt");
	assert_int_equal(t->st.vm_state, API_VM_NOT_STARTED);
	assert_false(t->st.cfg.machine.track_dirty_pages);
	/* ... and the process can still load a good one. */
	PUT("/snapshot/load",
	    "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"mem_backend\":null}");
	assert_false(t->cmd.snapshot_load.track_dirty_pages);
	FAULT(complete(t, -EIO, ""), "Input/output error");
	PUT("/snapshot/load", LOAD_OK);
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(t->st.vm_state, API_VM_PAUSED);
}

/* Each boot-specific PUT closes the door on a load; logger and metrics do not. */
static void test_load_after_config(void **state)
{
	static const char *const cfg[][2] = {
	    {"/boot-source", "{\"kernel_image_path\":\"/k\"}"},
	    {"/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64}"},
	    {"/drives/d", "{\"drive_id\":\"d\",\"path_on_host\":\"/d\",\"is_root_device\":false}"},
	    {"/network-interfaces/n", "{\"iface_id\":\"n\",\"host_dev_name\":\"tap0\"}"},
	    {"/vsock", "{\"guest_cid\":3,\"uds_path\":\"/v\"}"},
	};
	struct t *t = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cfg); i++) {
		assert_int_equal(api_state_init(&t->st, "vm-1"), 0);
		assert_int_equal(PUT(cfg[i][0], cfg[i][1]), 204);
		FAULT(PUT("/snapshot/load", LOAD_OK),
		      "Loading a microVM snapshot not allowed after configuring boot-specific "
		      "resources.");
	}
	/* A refused configuration PUT does not count. */
	assert_int_equal(api_state_init(&t->st, "vm-1"), 0);
	FAULT(PUT("/machine-config", "{\"vcpu_count\":0,\"mem_size_mib\":64}"), "vcpu_count");
	PUT("/metrics", "{\"metrics_path\":\"/m\"}");
	assert_int_equal(complete(t, 0, ""), 204);
	PUT("/snapshot/load", LOAD_OK);
	assert_int_equal(complete(t, 0, ""), 204);
	/* After a boot, too. */
	assert_int_equal(api_state_init(&t->st, "vm-1"), 0);
	start_vm(t);
	FAULT(PUT("/snapshot/load", LOAD_OK), "not supported after starting the microVM");
}

static void test_load_schema(void **state)
{
	static const struct {
		const char *body, *msg;
	} bad[] = {
	    {"{\"mem_file_path\":\"m\"}",
	     "snapshot-load: missing required field \"snapshot_path\"."},
	    {"{\"snapshot_path\":\"s\"}", "snapshot-load: missing field: either \"mem_backend\" or "
					  "\"mem_file_path\" is required."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"mem_backend\":{\"backend_type\":"
	     "\"File\",\"backend_path\":\"m\"}}",
	     "\"mem_backend\" and \"mem_file_path\" are mutually exclusive"},
	    {"{\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_path\":\"m\"}}",
	     "snapshot-load: mem_backend: missing required field \"backend_type\"."},
	    {"{\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_type\":\"File\"}}",
	     "snapshot-load: mem_backend: missing required field \"backend_path\"."},
	    {"{\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_type\":\"Mmap\",\"backend_path\":"
	     "\"m\"}}",
	     "\"backend_type\" must be one of \"File\", \"Uffd\"."},
	    {"{\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":"
	     "\"\"}}",
	     "mem_backend: \"backend_path\" must not be empty."},
	    {"{\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":"
	     "\"m\",\"x\":1}}",
	     "snapshot-load: mem_backend: unknown field \"x\"."},
	    {"{\"snapshot_path\":\"s\",\"mem_backend\":\"m\"}",
	     "snapshot-load: \"mem_backend\" must be an object."},
	    {"{\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":"
	     "\"s\"}}",
	     "the memory file and \"snapshot_path\" must be different files."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"resume_vm\":\"yes\"}",
	     "snapshot-load: \"resume_vm\" must be a boolean."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"enable_diff_snapshots\":1}",
	     "\"enable_diff_snapshots\" must be a boolean."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"track_dirty_pages\":\"true\"}",
	     "\"track_dirty_pages\" must be a boolean."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"clock_realtime\":0}",
	     "\"clock_realtime\" must be a boolean."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"page_size\":\"4K\"}",
	     "snapshot-load: unknown field \"page_size\"."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"network_overrides\":{}}",
	     "\"network_overrides\" must be an array."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"network_overrides\":[1]}",
	     "snapshot-load: network_overrides[0]: expected a JSON object."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"network_overrides\":[{\"iface_"
	     "id\":"
	     "\"a\",\"host_dev_name\":\"t\"},{\"iface_id\":\"b\"}]}",
	     "network_overrides[1]: missing required field \"host_dev_name\"."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"network_overrides\":[{\"iface_"
	     "id\":"
	     "\"a-b\",\"host_dev_name\":\"t\"}]}",
	     "network_overrides[0]: API Resource IDs can only contain alphanumeric"},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"network_overrides\":[{\"iface_"
	     "id\":"
	     "\"a\",\"host_dev_name\":\"0123456789abcdef\"}]}",
	     "\"host_dev_name\" is longer than 15 bytes."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"network_overrides\":[{\"iface_"
	     "id\":"
	     "\"a\",\"host_dev_name\":\"t\",\"guest_mac\":\"06:00:00:00:00:01\"}]}",
	     "network_overrides[0]: unknown field \"guest_mac\"."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"network_overrides\":[{\"iface_"
	     "id\":"
	     "\"a\",\"host_dev_name\":\"t\"},{\"iface_id\":\"a\",\"host_dev_name\":\"u\"}]}",
	     "network_overrides[1]: \"iface_id\" \"a\" is overridden twice."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"network_overrides\":[{},{},{},{},"
	     "{},{},{},{},{}]}",
	     "\"network_overrides\" has more than 8 entries."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"vsock_override\":{}}",
	     "snapshot-load: vsock_override: missing required field \"uds_path\"."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"vsock_override\":[]}",
	     "\"vsock_override\" must be an object."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"vsock_override\":{\"uds_path\":"
	     "\"/v\",\"guest_cid\":4}}",
	     "vsock_override: unknown field \"guest_cid\"."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"vsock_override\":{\"uds_path\":"
	     "\"\"}}",
	     "vsock_override: \"uds_path\" must not be empty."},
	    {"{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"bogus\":true}",
	     "snapshot-load: unknown field \"bogus\"."},
	    {"\"s\"", "deserializing"},
	};
	struct t *t = *state;
	char body[512], path[200];

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		FAULT(PUT("/snapshot/load", bad[i].body), bad[i].msg);
	/* Unix socket paths: the vsock override and a Uffd backend. */
	memset(path, 'p', sizeof(path));
	path[API_UDS_PATH_MAX] = '\0';
	snprintf(body, sizeof(body),
		 "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"vsock_override\":{"
		 "\"uds_path\":\"%s\"}}",
		 path);
	FAULT(PUT("/snapshot/load", body), "\"uds_path\" is longer than 107 bytes.");
	snprintf(body, sizeof(body),
		 "{\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_type\":\"Uffd\","
		 "\"backend_path\":\"%s\"}}",
		 path);
	FAULT(PUT("/snapshot/load", body), "is a Unix socket and must be shorter than 108 bytes.");
	snprintf(body, sizeof(body),
		 "{\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_type\":\"File\","
		 "\"backend_path\":\"%s\"}}",
		 path); /* a memory file may have a long path */
	PUT("/snapshot/load", body);
	assert_int_equal(t->res, API_EXEC);
	assert_int_equal(complete(t, -EINVAL, "no"), 400);
	/* Eight overrides are fine. */
	PUT("/snapshot/load",
	    "{\"snapshot_path\":\"s\",\"mem_file_path\":\"m\",\"network_overrides\":["
	    "{\"iface_id\":\"a\",\"host_dev_name\":\"t\"},{\"iface_id\":\"b\",\"host_dev_name\":"
	    "\"t\"},"
	    "{\"iface_id\":\"c\",\"host_dev_name\":\"t\"},{\"iface_id\":\"d\",\"host_dev_name\":"
	    "\"t\"},"
	    "{\"iface_id\":\"e\",\"host_dev_name\":\"t\"},{\"iface_id\":\"f\",\"host_dev_name\":"
	    "\"t\"},"
	    "{\"iface_id\":\"g\",\"host_dev_name\":\"t\"},{\"iface_id\":\"h\",\"host_dev_name\":"
	    "\"t\"}]"
	    "}");
	assert_int_equal(t->res, API_EXEC);
	assert_int_equal(t->cmd.snapshot_load.nr_net_overrides, 8);
	assert_int_equal(complete(t, -EINVAL, "no"), 400);
	assert_int_equal(t->st.vm_state, API_VM_NOT_STARTED);
	assert_false(t->st.boot_configured);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_create_states, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_diff, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_create_schema, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_ok, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_resume_and_options, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_legacy_and_failure, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_after_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_schema, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
