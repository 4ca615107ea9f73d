// SPDX-License-Identifier: Apache-2.0
/* The router: every endpoint's validation, pre-boot vs runtime rules, the config document. */
#include <jansson.h>
#include <stdatomic.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "api.h"
#include "cmdq.h"

#include "api_client.h"

static void test_get_endpoints(void **state)
{
	struct t *t = *state;
	json_t *o;

	assert_int_equal(GET("/"), 200);
	o = body_json(t);
	assert_string_equal(json_string_value(json_object_get(o, "id")), "vm-1");
	assert_string_equal(json_string_value(json_object_get(o, "state")), "Not started");
	assert_string_equal(json_string_value(json_object_get(o, "vmm_version")), EMBER_FC_VERSION);
	assert_string_equal(json_string_value(json_object_get(o, "app_name")), API_APP_NAME);
	json_decref(o);
	assert_int_equal(GET("/version"), 200);
	assert_string_equal(t->resp.body, "{\"firecracker_version\":\"" EMBER_FC_VERSION "\"}");
	assert_int_equal(GET("/machine-config"), 200);
	assert_string_equal(t->resp.body, "{\"vcpu_count\":1,\"mem_size_mib\":128,\"smt\":false,"
					  "\"track_dirty_pages\":false,\"huge_pages\":\"None\"}");
	assert_int_equal(GET("/machine-config/"), 200); /* one trailing slash is fine */
	assert_int_equal(GET("/vm/config"), 200);
	assert_string_equal(t->resp.body,
			    "{\"boot-source\":{\"kernel_image_path\":\"\",\"initrd_path\":null,"
			    "\"boot_args\":null},\"machine-config\":{\"vcpu_count\":1,"
			    "\"mem_size_mib\":128,\"smt\":false,\"track_dirty_pages\":false,"
			    "\"huge_pages\":\"None\"},\"drives\":[],\"network-interfaces\":[],"
			    "\"vsock\":null,\"entropy\":null,\"logger\":null,\"metrics\":null,"
			    "\"balloon\":null,\"cpu-config\":null,\"mmds-config\":null,\"pmem\":[],"
			    "\"memory-hotplug\":null}");
}

static void test_routing_errors(void **state)
{
	struct t *t = *state;

	FAULT(GET("/nope"), "Invalid request method and/or path: GET nope.");
	FAULT(PUT("/", "{}"), "Invalid request method and/or path: PUT ");
	FAULT(PUT("/vm", "{}"), "Invalid request method and/or path: PUT vm");
	FAULT(GET("/boot-source"), "Invalid request method and/or path");
	FAULT(PATCH("/actions", "{}"), "Invalid request method and/or path");
	FAULT(GET("/vm/config/x"), "Invalid request method and/or path");
	FAULT(PUT("/drives/a/b", "{}"), "Invalid request method and/or path");
	FAULT(GET("//"), "Invalid request method and/or path");
	FAULT(GET("/?"), "Invalid");
	FAULT(req(t, HTTP_GET, "/", "{}"), "GET request cannot have a body.");
	FAULT(PUT("/boot-source", NULL), "Empty PUT request.");
	FAULT(PATCH("/vm", NULL), "Empty PATCH request.");
	FAULT(PUT("/drives/", "{}"), "The ID cannot be empty.");
	FAULT(PUT("/drives/a-b", "{}"), "alphanumeric characters and underscores");
	FAULT(PUT("/boot-source", "{"), "deserializing the json body");
	FAULT(PUT("/boot-source", "[]"), "expected a JSON object");
	FAULT(PUT("/boot-source", "\"x\""), "deserializing");
	FAULT(PUT("/boot-source", "{\"kernel_image_path\":\"a\",\"kernel_image_path\":\"b\"}"),
	      "duplicate object key");
	FAULT(PUT("/boot-source", "{\"kernel_image_path\":\"\xff\"}"), "deserializing");
	assert_false(t->st.cfg.boot.set);
}

static void test_boot_source(void **state)
{
	struct t *t = *state;

	assert_int_equal(PUT("/boot-source",
			     "{\"kernel_image_path\":\"/vmlinux\","
			     "\"boot_args\":\"console=ttyS0\",\"initrd_path\":null}"),
			 204);
	assert_true(t->st.cfg.boot.set);
	assert_string_equal(t->st.cfg.boot.kernel_image_path, "/vmlinux");
	assert_true(t->st.cfg.boot.has_boot_args);
	assert_string_equal(t->st.cfg.boot.initrd_path, "");
	FAULT(PUT("/boot-source", "{}"), "missing required field \"kernel_image_path\"");
	FAULT(PUT("/boot-source", "{\"kernel_image_path\":null}"), "\"kernel_image_path\"");
	FAULT(PUT("/boot-source", "{\"kernel_image_path\":7}"),
	      "\"kernel_image_path\" must be a string");
	FAULT(PUT("/boot-source", "{\"kernel_image_path\":\"\"}"), "must not be empty");
	FAULT(PUT("/boot-source", "{\"kernel_image_path\":\"/k\",\"kernel\":1}"),
	      "unknown field \"kernel\"");
	FAULT(PUT("/boot-source", "{\"kernel_image_path\":\"/k\",\"boot_args\":false}"),
	      "\"boot_args\" must be a string");
	/* Nothing refused changed anything. */
	assert_string_equal(t->st.cfg.boot.kernel_image_path, "/vmlinux");
	assert_string_equal(t->st.cfg.boot.boot_args, "console=ttyS0");
}

static void test_machine_config(void **state)
{
	struct t *t = *state;
	struct api_machine_config *m = &t->st.cfg.machine;

	assert_int_equal(PUT("/machine-config",
			     "{\"vcpu_count\":2,\"mem_size_mib\":256,"
			     "\"smt\":true,\"track_dirty_pages\":true,"
			     "\"cpu_template\":\"None\",\"huge_pages\":\"None\"}"),
			 204);
	assert_int_equal(m->vcpu_count, 2);
	assert_int_equal(m->mem_size_mib, 256);
	assert_true(m->smt && m->track_dirty_pages);
	/* PUT resets what it omits; PATCH keeps it. */
	assert_int_equal(PUT("/machine-config", "{\"vcpu_count\":3,\"mem_size_mib\":512}"), 204);
	assert_false(m->smt || m->track_dirty_pages);
	assert_int_equal(PATCH("/machine-config", "{\"mem_size_mib\":1024}"), 204);
	assert_int_equal(m->vcpu_count, 3);
	assert_int_equal(m->mem_size_mib, 1024);
	FAULT(PATCH("/machine-config", "{}"), "the update changes nothing");
	assert_int_equal(m->mem_size_mib, 1024);
	FAULT(PUT("/machine-config", "{\"mem_size_mib\":128}"),
	      "missing required field \"vcpu_count\"");
	FAULT(PUT("/machine-config", "{\"vcpu_count\":0,\"mem_size_mib\":128}"),
	      "\"vcpu_count\" must be in 1..32");
	FAULT(PUT("/machine-config", "{\"vcpu_count\":33,\"mem_size_mib\":128}"), "\"vcpu_count\"");
	FAULT(PUT("/machine-config", "{\"vcpu_count\":-1,\"mem_size_mib\":128}"), "\"vcpu_count\"");
	FAULT(PUT("/machine-config", "{\"vcpu_count\":1.0,\"mem_size_mib\":128}"),
	      "\"vcpu_count\" must be an integer");
	FAULT(PUT("/machine-config", "{\"vcpu_count\":\"2\",\"mem_size_mib\":128}"),
	      "must be an integer");
	FAULT(PUT("/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":0}"), "\"mem_size_mib\"");
	FAULT(PUT("/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":99999999999}"),
	      "\"mem_size_mib\"");
	FAULT(PUT("/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":999999999999999999999}"),
	      "deserializing");
	FAULT(PUT("/machine-config", "{\"vcpu_count\":3,\"mem_size_mib\":128,\"smt\":true}"),
	      "1 or even");
	FAULT(PATCH("/machine-config", "{\"smt\":true}"), "1 or even"); /* 3 vCPUs stay */
	FAULT(PUT("/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":128,\"smt\":1}"),
	      "\"smt\" must be a boolean");
	FAULT(PUT("/machine-config",
		  "{\"vcpu_count\":1,\"mem_size_mib\":128,\"cpu_template\":\"T3\"}"),
	      "\"cpu_template\" must be one of \"None\", \"C3\"");
	FAULT(PATCH("/machine-config", "{\"vcpus\":1}"), "unknown field \"vcpus\"");
	assert_int_equal(m->vcpu_count, 3);
	assert_int_equal(m->mem_size_mib, 1024);
	assert_false(m->smt);
}

#define DRIVE(id, root)                                                                            \
	"{\"drive_id\":\"" id "\",\"path_on_host\":\"/img\",\"is_root_device\":" root "}"

static void test_drives(void **state)
{
	struct t *t = *state;
	char path[64], body[160];

	assert_int_equal(PUT("/drives/rootfs",
			     "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/r.ext4\","
			     "\"is_root_device\":true,\"is_read_only\":true,"
			     "\"partuuid\":\"abcd-01\",\"cache_type\":\"Writeback\","
			     "\"io_engine\":\"Async\",\"rate_limiter\":null}"),
			 204);
	assert_int_equal(t->st.cfg.nr_drives, 1);
	assert_int_equal(t->st.cfg.drives[0].cache_type, API_CACHE_WRITEBACK);
	assert_int_equal(t->st.cfg.drives[0].io_engine, API_IO_ASYNC);
	assert_true(t->st.cfg.drives[0].is_read_only);
	/* Same id replaces. */
	assert_int_equal(PUT("/drives/rootfs", DRIVE("rootfs", "true")), 204);
	assert_int_equal(t->st.cfg.nr_drives, 1);
	assert_false(t->st.cfg.drives[0].is_read_only);
	FAULT(PUT("/drives/rootfs", DRIVE("other", "false")), "\"drive_id\" \"other\"");
	FAULT(PUT("/drives/rootfs", DRIVE("other", "false")), "does not match");
	FAULT(PUT("/drives/data", DRIVE("data", "true")), "root block device already exists");
	FAULT(PUT("/drives/d", "{\"drive_id\":\"d\",\"path_on_host\":\"/x\"}"),
	      "\"is_root_device\"");
	FAULT(PUT("/drives/d", "{\"drive_id\":\"d\",\"is_root_device\":false}"),
	      "\"path_on_host\"");
	FAULT(PUT("/drives/d",
		  "{\"drive_id\":\"d-1\",\"path_on_host\":\"/x\",\"is_root_device\":false}"),
	      "alphanumeric");
	FAULT(PUT("/drives/d", "{\"drive_id\":\"d\",\"path_on_host\":\"/"
			       "x\",\"is_root_device\":false,\"cache_type\":\"None\"}"),
	      "\"cache_type\" must be one of \"Unsafe\", \"Writeback\"");
	FAULT(PUT("/drives/d", "{\"drive_id\":\"d\",\"path_on_host\":\"/"
			       "x\",\"is_root_device\":false,\"io_engine\":\"sync\"}"),
	      "\"io_engine\"");
	FAULT(PUT("/drives/d", "{\"drive_id\":\"d\",\"path_on_host\":\"/"
			       "x\",\"is_root_device\":false,\"rate_limiter\":{\"ops\":{\"size\":"
			       "1,\"refill_time\":0}}}"),
	      "drive: rate_limiter: ops token bucket: refill_time must be positive");
	FAULT(PUT("/drives/d", "{\"drive_id\":\"d\",\"path_on_host\":\"/"
			       "x\",\"is_root_device\":false,\"socket\":\"/s\"}"),
	      "\"socket\" is not supported");
	for (int i = 1; i < API_MAX_DRIVES; i++) {
		snprintf(path, sizeof(path), "/drives/d%d", i);
		snprintf(body, sizeof(body), DRIVE("d%d", "false"), i);
		assert_int_equal(PUT(path, body), 204);
	}
	FAULT(PUT("/drives/last", DRIVE("last", "false")), "at most 16 drives");
	assert_int_equal(t->st.cfg.nr_drives, API_MAX_DRIVES);
	/* PATCH is for a running VM. */
	FAULT(PATCH("/drives/rootfs", "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/new\"}"),
	      "before starting");
	start_vm(t);
	FAULT(PUT("/drives/rootfs", DRIVE("rootfs", "true")),
	      "not supported after starting the microVM.");
	FAULT(PATCH("/drives/nope", "{\"drive_id\":\"nope\",\"path_on_host\":\"/n\"}"), "no drive");
	FAULT(PATCH("/drives/rootfs", "{\"drive_id\":\"rootfs\",\"is_read_only\":true}"),
	      "unknown field \"is_read_only\"");
	FAULT(PATCH("/drives/rootfs", "{\"drive_id\":\"x\",\"path_on_host\":\"/n\"}"),
	      "does not match");
	/* Only the id: Firecracker calls that a bad request. */
	FAULT(PATCH("/drives/rootfs", "{\"drive_id\":\"rootfs\"}"), "the update changes nothing");
	assert_int_equal(t->res, API_DONE);
	PATCH("/drives/rootfs", "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/new\"}");
	assert_int_equal(t->cmd.kind, API_CMD_PATCH_DRIVE);
	assert_string_equal(t->cmd.drive.path_on_host, "/new");
	FAULT(complete(t, -ENOENT, "cannot open /new"), "cannot open /new");
	assert_string_equal(t->st.cfg.drives[0].path_on_host, "/img");
	PATCH("/drives/rootfs", "{\"drive_id\":\"rootfs\",\"path_on_host\":\"/new\"}");
	assert_int_equal(complete(t, 0, ""), 204);
	assert_string_equal(t->st.cfg.drives[0].path_on_host, "/new");
}

#define NET(id, tap, mac)                                                                          \
	"{\"iface_id\":\"" id "\",\"host_dev_name\":\"" tap "\",\"guest_mac\":\"" mac "\"}"

static void test_network_and_vsock(void **state)
{
	struct t *t = *state;

	assert_int_equal(PUT("/network-interfaces/eth0", NET("eth0", "tap0", "06:00:AC:10:00:02")),
			 204);
	assert_int_equal(t->st.cfg.nets[0].guest_mac[5], 2);
	assert_int_equal(
	    PUT("/network-interfaces/eth1", "{\"iface_id\":\"eth1\",\"host_dev_name\":\"tap1\"}"),
	    204);
	assert_false(t->st.cfg.nets[1].has_mac);
	FAULT(PUT("/network-interfaces/eth2", NET("eth2", "tap0", "06:00:00:00:00:09")),
	      "\"host_dev_name\" tap0 is already used");
	FAULT(PUT("/network-interfaces/eth2", NET("eth2", "tap2", "06:00:ac:10:00:02")),
	      "\"guest_mac\" is already used");
	FAULT(PUT("/network-interfaces/eth2", NET("eth2", "tap2", "06:00:ac:10:00")),
	      "\"guest_mac\" must look like");
	FAULT(PUT("/network-interfaces/eth2", NET("eth2", "tap2", "06-00-ac-10-00-02")),
	      "\"guest_mac\"");
	FAULT(
	    PUT("/network-interfaces/eth2", NET("eth2", "tap-name-too-long", "06:00:ac:10:00:03")),
	    "\"host_dev_name\" is longer than 15");
	FAULT(PUT("/network-interfaces/eth2", NET("eth3", "tap2", "06:00:ac:10:00:03")),
	      "\"iface_id\" \"eth3\"");
	FAULT(PUT("/network-interfaces/eth2",
		  "{\"iface_id\":\"eth2\",\"host_dev_name\":\"t\",\"mtu\":67}"),
	      "\"mtu\" must be in 68..65535");
	FAULT(PUT("/network-interfaces/eth2",
		  "{\"iface_id\":\"eth2\",\"host_dev_name\":\"t\",\"rx_rate_limiter\":[]}"),
	      "\"rx_rate_limiter\" must be an object");
	FAULT(PUT("/network-interfaces/eth2", "{\"iface_id\":\"eth2\"}"),
	      "missing required field \"host_dev_name\"");
	assert_int_equal(t->st.cfg.nr_nets, 2);

	assert_int_equal(
	    PUT("/vsock", "{\"guest_cid\":3,\"uds_path\":\"/v.sock\",\"vsock_id\":\"x\"}"), 204);
	assert_int_equal(t->st.cfg.vsock.guest_cid, 3);
	FAULT(PUT("/vsock", "{\"guest_cid\":2,\"uds_path\":\"/v.sock\"}"),
	      "\"guest_cid\" must be in 3..");
	FAULT(PUT("/vsock", "{\"guest_cid\":4294967296,\"uds_path\":\"/v.sock\"}"),
	      "\"guest_cid\"");
	FAULT(PUT("/vsock", "{\"guest_cid\":4}"), "\"uds_path\"");
	FAULT(PUT("/vsock", "{\"guest_cid\":4,\"uds_path\":\"/"
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
			    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}"),
	      "longer than 107");
	assert_int_equal(t->st.cfg.vsock.guest_cid, 3);

	start_vm(t);
	FAULT(PUT("/vsock", "{\"guest_cid\":5,\"uds_path\":\"/v\"}"), "after starting");
	FAULT(PUT("/network-interfaces/eth5", NET("eth5", "tap5", "06:00:ac:10:00:05")),
	      "after starting");
	FAULT(PATCH("/network-interfaces/eth0",
		    "{\"iface_id\":\"eth0\",\"tx_rate_limiter\":{\"ops\":{}}}"),
	      "tx_rate_limiter: ops: missing required field \"size\"");
	FAULT(PATCH("/network-interfaces/eth9", "{\"iface_id\":\"eth9\"}"), "no interface");
	assert_int_equal(PATCH("/network-interfaces/eth0", "{\"iface_id\":\"eth0\"}"), 204);
}

static void test_logger_metrics(void **state)
{
	struct t *t = *state;

	PUT("/logger", "{\"log_path\":\"/tmp/log\",\"level\":\"debug\",\"show_level\":true}");
	assert_int_equal(t->cmd.kind, API_CMD_LOGGER);
	assert_int_equal(t->cmd.logger.level, API_LOG_DEBUG);
	FAULT(complete(t, -EACCES, "cannot open /tmp/log"), "cannot open");
	assert_false(t->st.cfg.logger.set);
	PUT("/logger", "{\"log_path\":\"/tmp/log\",\"level\":\"Warning\"}");
	assert_int_equal(complete(t, 0, NULL), 204);
	assert_true(t->st.cfg.logger.set);
	assert_int_equal(t->st.cfg.logger.level, API_LOG_WARNING);
	/* "Warn" is Firecracker's too; GET shows it as "Warning". */
	PUT("/logger", "{\"level\":\"warn\"}");
	assert_int_equal(t->cmd.logger.level, API_LOG_WARNING);
	assert_int_equal(complete(t, 0, NULL), 204);
	FAULT(PUT("/logger", "{\"level\":\"loud\"}"), "\"level\" must be one of");
	FAULT(PUT("/logger", "{\"log_path\":\"\"}"), "\"log_path\" must not be empty");
	FAULT(PUT("/logger", "{\"options\":[]}"), "unknown field \"options\"");

	FAULT(PUT("/metrics", "{}"), "missing required field \"metrics_path\"");
	PUT("/metrics", "{\"metrics_path\":\"/tmp/m\"}");
	assert_int_equal(t->cmd.kind, API_CMD_METRICS);
	FAULT(complete(t, -EIO, ""), "The VMM failed to execute the request");
	PUT("/metrics", "{\"metrics_path\":\"/tmp/m\"}");
	assert_int_equal(complete(t, 0, ""), 204);
	FAULT(PUT("/metrics", "{\"metrics_path\":\"/tmp/m2\"}"),
	      "Reinitialization of metrics not allowed.");
	FAULT(PUT("/actions", "{\"action_type\":\"FlushMetrics\"}"), "before starting");
	start_vm(t);
	PUT("/actions", "{\"action_type\":\"FlushMetrics\"}");
	assert_int_equal(t->cmd.kind, API_CMD_FLUSH_METRICS);
	assert_int_equal(complete(t, 0, ""), 204);
	FAULT(PUT("/logger", "{\"level\":\"Info\"}"), "after starting");
}

static void test_actions_and_vm_state(void **state)
{
	struct t *t = *state;
	json_t *o;

	FAULT(PUT("/actions", "{\"action_type\":\"InstanceStart\"}"),
	      "Cannot start microvm without kernel configuration.");
	FAULT(PUT("/actions", "{\"action_type\":\"SendCtrlAltDel\"}"),
	      "before starting the microVM.");
	FAULT(PUT("/actions", "{\"action_type\":\"Reboot\"}"), "\"action_type\" must be one of");
	FAULT(PUT("/actions", "{\"action_type\":\"InstanceStart\",\"payload\":1}"),
	      "unknown field \"payload\"");
	FAULT(PUT("/actions", "{}"), "missing required field \"action_type\"");
	FAULT(PATCH("/vm", "{\"state\":\"Paused\"}"), "before starting the microVM.");
	/* A failed start leaves the VM not started, ready for another try. */
	assert_int_equal(PUT("/boot-source", "{\"kernel_image_path\":\"/k\"}"), 204);
	PUT("/actions", "{\"action_type\":\"InstanceStart\"}");
	FAULT(complete(t, -ENOEXEC, "kernel /k: not an ELF or bzImage"), "not an ELF");
	assert_int_equal(t->st.vm_state, API_VM_NOT_STARTED);
	start_vm(t);
	FAULT(PUT("/actions", "{\"action_type\":\"InstanceStart\"}"),
	      "not supported after starting the microVM.");
	FAULT(PUT("/boot-source", "{\"kernel_image_path\":\"/k2\"}"), "after starting");
	FAULT(PUT("/machine-config", "{\"vcpu_count\":2,\"mem_size_mib\":128}"), "after starting");
	FAULT(PATCH("/machine-config", "{\"vcpu_count\":2}"), "after starting");
	PUT("/actions", "{\"action_type\":\"SendCtrlAltDel\"}");
	assert_int_equal(t->cmd.kind, API_CMD_CTRL_ALT_DEL);
	assert_int_equal(complete(t, 0, ""), 204);
	FAULT(PATCH("/vm", "{\"state\":\"Stopped\"}"),
	      "\"state\" must be one of \"Paused\", \"Resumed\"");
	assert_int_equal(PATCH("/vm", "{\"state\":\"Resumed\"}"), 204); /* already running */
	assert_int_equal(t->res, API_DONE);
	PATCH("/vm", "{\"state\":\"Paused\"}");
	assert_int_equal(t->cmd.kind, API_CMD_PAUSE);
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(GET("/"), 200);
	o = body_json(t);
	assert_string_equal(json_string_value(json_object_get(o, "state")), "Paused");
	json_decref(o);
	assert_int_equal(PATCH("/vm", "{\"state\":\"Paused\"}"), 204);
	PATCH("/vm", "{\"state\":\"Resumed\"}");
	assert_int_equal(t->cmd.kind, API_CMD_RESUME);
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(t->st.vm_state, API_VM_RUNNING);
}

static const char full_config[] =
    "{\"boot-source\":{\"kernel_image_path\":\"/k\",\"initrd_path\":\"/i\",\"boot_args\":\"a=b\"},"
    "\"machine-config\":{\"vcpu_count\":2,\"mem_size_mib\":256,\"smt\":false,"
    "\"track_dirty_pages\":true,\"huge_pages\":\"None\"},"
    "\"drives\":[{\"drive_id\":\"rootfs\",\"partuuid\":\"p1\",\"is_root_device\":true,"
    "\"cache_type\":\"Unsafe\",\"is_read_only\":false,\"path_on_host\":\"/"
    "r\",\"rate_limiter\":null,"
    "\"io_engine\":\"Sync\",\"socket\":null}],"
    "\"network-interfaces\":[{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\","
    "\"guest_mac\":\"06:00:ac:10:00:02\",\"mtu\":null,\"rx_rate_limiter\":null,"
    "\"tx_rate_limiter\":null}],"
    "\"vsock\":{\"guest_cid\":3,\"uds_path\":\"/v\"},"
    "\"entropy\":{\"rate_limiter\":{\"bandwidth\":{\"size\":1000,\"one_time_burst\":0,"
    "\"refill_time\":100},\"ops\":null}},"
    "\"logger\":{\"level\":\"Debug\",\"show_level\":false,\"show_log_origin\":true,\"log_path\":\"/"
    "l\"},"
    "\"metrics\":{\"metrics_path\":\"/m\",\"emit_id\":true,\"properties\":{\"a\":\"1\"}},"
    "\"balloon\":null,\"cpu-config\":null,\"mmds-config\":null,\"pmem\":[],\"memory-hotplug\":"
    "null}";

/*
 * Drives and interfaces take Firecracker's rate limiters (Kata always sends
 * them, empty) and GET /vm/config shows them as given; PATCH needs a
 * running VM, as in Firecracker.
 */
static void test_rate_limiters(void **state)
{
	struct t *t = *state;

	assert_int_equal(PUT("/drives/r", "{\"drive_id\":\"r\",\"path_on_host\":\"/r\","
					  "\"is_root_device\":true,\"rate_limiter\":{}}"),
			 204);
	assert_true(t->st.cfg.drives[0].rate_limiter.set);
	assert_int_equal(PUT("/drives/d",
			     "{\"drive_id\":\"d\",\"path_on_host\":\"/d\",\"is_root_device\":"
			     "false,\"rate_limiter\":{\"bandwidth\":{\"size\":1048576,"
			     "\"refill_time\":1000}}}"),
			 204);
	assert_int_equal(t->st.cfg.drives[1].rate_limiter.bandwidth.size, 1048576);
	assert_int_equal(PUT("/network-interfaces/eth0",
			     "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\",\"mtu\":1400,\"rx_"
			     "rate_limiter\":{},"
			     "\"tx_rate_limiter\":{\"ops\":{\"size\":100,\"one_time_burst\":10,"
			     "\"refill_time\":1000}}}"),
			 204);
	assert_true(t->st.cfg.nets[0].rx_rate_limiter.set);
	assert_false(t->st.cfg.nets[0].rx_rate_limiter.ops.set);
	assert_int_equal(t->st.cfg.nets[0].tx_rate_limiter.ops.one_time_burst, 10);
	assert_int_equal(t->st.cfg.nets[0].mtu, 1400);
	assert_int_equal(GET("/vm/config"), 200);
	assert_non_null(strstr(t->resp.body, "\"drive_id\":\"r\""));
	assert_non_null(strstr(t->resp.body, "\"mtu\":1400"));
	assert_non_null(strstr(t->resp.body, "\"rate_limiter\":{\"bandwidth\":null,\"ops\":null}"));
	assert_non_null(strstr(t->resp.body, "\"rate_limiter\":{\"bandwidth\":{\"size\":1048576,"
					     "\"one_time_burst\":0,\"refill_time\":1000},"
					     "\"ops\":null}"));
	assert_non_null(strstr(t->resp.body, "\"tx_rate_limiter\":{\"bandwidth\":null,\"ops\":{"
					     "\"size\":100,\"one_time_burst\":10,"
					     "\"refill_time\":1000}}"));
	FAULT(PATCH("/drives/d", "{\"drive_id\":\"d\",\"rate_limiter\":{}}"),
	      "not supported before starting");
	FAULT(PATCH("/network-interfaces/eth0", "{\"iface_id\":\"eth0\",\"tx_rate_limiter\":{}}"),
	      "not supported before starting");
	FAULT(PATCH("/network-interfaces/eth0",
		    "{\"iface_id\":\"eth0\",\"tx_rate_limiter\":{\"ops\":{\"size\":1}}}"),
	      "missing required field \"refill_time\"");
}

/* PUT /entropy: Firecracker's EntropyDevice, rate limiter included; kept for GET. */
static void test_entropy(void **state)
{
	struct t *t = *state;
	json_t *o, *e;

	assert_int_equal(PUT("/entropy", "{}"), 204);
	assert_true(t->st.cfg.entropy.set);
	assert_false(t->st.cfg.entropy.rate_limiter.set);
	assert_int_equal(GET("/vm/config"), 200);
	assert_non_null(strstr(t->resp.body, "\"entropy\":{\"rate_limiter\":null}"));
	/* Kata sends empty limiters: accepted, no limits. */
	assert_int_equal(PUT("/entropy", "{\"rate_limiter\":{}}"), 204);
	assert_true(t->st.cfg.entropy.rate_limiter.set);
	assert_false(t->st.cfg.entropy.rate_limiter.bandwidth.set);
	assert_int_equal(PUT("/entropy", "{\"rate_limiter\":{\"bandwidth\":{\"size\":4096,"
					 "\"one_time_burst\":8192,\"refill_time\":250},"
					 "\"ops\":{\"size\":10,\"refill_time\":1000}}}"),
			 204);
	assert_int_equal(GET("/vm/config"), 200);
	o = body_json(t);
	e = json_object_get(json_object_get(json_object_get(o, "entropy"), "rate_limiter"),
			    "bandwidth");
	assert_int_equal(json_integer_value(json_object_get(e, "size")), 4096);
	assert_int_equal(json_integer_value(json_object_get(e, "one_time_burst")), 8192);
	assert_int_equal(json_integer_value(json_object_get(e, "refill_time")), 250);
	e = json_object_get(json_object_get(json_object_get(o, "entropy"), "rate_limiter"), "ops");
	assert_int_equal(json_integer_value(json_object_get(e, "size")), 10);
	json_decref(o);
	/* Refused, and the last good settings stay. */
	FAULT(PUT("/entropy", "{\"rate_limiter\":{\"ops\":{\"size\":1,\"refill_time\":0}}}"),
	      "entropy: rate_limiter: ops token bucket: refill_time must be positive");
	FAULT(PUT("/entropy", "{\"rate_limiter\":{\"ops\":{\"refill_time\":5}}}"),
	      "missing required field \"size\"");
	FAULT(PUT("/entropy", "{\"rate_limiter\":{\"bandwidth\":{\"size\":-1,\"refill_time\":5}}}"),
	      "\"size\" must be in");
	FAULT(PUT("/entropy", "{\"rate_limiter\":{\"bw\":{}}}"), "unknown field \"bw\"");
	FAULT(PUT("/entropy", "{\"rate_limiter\":[]}"), "must be an object");
	FAULT(PUT("/entropy", "{\"limiter\":{}}"), "unknown field \"limiter\"");
	assert_int_equal(t->st.cfg.entropy.rate_limiter.bandwidth.size, 4096);
}

static void test_config_document(void **state)
{
	struct t *t = *state;
	struct api_vm_config *cfg = malloc(sizeof(*cfg));
	char err[256], path[] = "/tmp/ember-cfg-XXXXXX";
	char *s;
	FILE *f;
	int fd;

	(void)t;
	assert_int_equal(
	    api_config_from_json(full_config, strlen(full_config), cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->machine.vcpu_count, 2);
	assert_string_equal(cfg->drives[0].partuuid, "p1");
	/* GET /vm/config output is exactly what was read. */
	s = api_config_to_json(cfg);
	assert_string_equal(s, full_config);
	free(s);
	fd = mkstemp(path);
	f = fdopen(fd, "w");
	fputs(full_config, f);
	fclose(f);
	memset(cfg, 0, sizeof(*cfg));
	assert_int_equal(api_config_from_file(path, cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg->boot.boot_args, "a=b");
	unlink(path);
	assert_int_equal(api_config_from_file(path, cfg, err, sizeof(err)), -ENOENT);
	/* A FIFO nobody writes to: refused at once (SIGALRM if it hangs). */
	assert_int_equal(mkfifo(path, 0600), 0);
	alarm(20);
	assert_int_equal(api_config_from_file(path, cfg, err, sizeof(err)), -EINVAL);
	alarm(0);
	assert_non_null(strstr(err, "not a regular file"));
	unlink(path);
	assert_int_equal(api_config_from_file("/tmp", cfg, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "/tmp: not a regular file"));
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(ftruncate(fileno(f), (1 << 20) + 1), 0);
	fclose(f);
	assert_int_equal(api_config_from_file(path, cfg, err, sizeof(err)), -EFBIG);
	assert_non_null(strstr(err, "larger than the limit of 1048576 bytes"));
	unlink(path);

#define BAD_CFG(doc, needle)                                                                       \
	do {                                                                                       \
		assert_int_not_equal(                                                              \
		    api_config_from_json(doc, strlen(doc), cfg, err, sizeof(err)), 0);             \
		if (!strstr(err, needle))                                                          \
			fail_msg("\"%s\" lacks \"%s\"", err, needle);                              \
	} while (0)
	BAD_CFG("{\"balloon\":{\"amount_mib\":1}}", "missing required field \"deflate_on_oom\"");
	BAD_CFG("{\"balloon\":{\"amount_mib\":129,\"deflate_on_oom\":false}}",
		"Amount of pages requested is too large");
	BAD_CFG("{\"frobs\":{}}", "unknown section \"frobs\"");
	BAD_CFG("{\"drives\":{}}", "\"drives\" must be an array");
	BAD_CFG("{\"drives\":[" DRIVE("a", "false") "," DRIVE("a", "false") "]}", "\"a\" twice");
	BAD_CFG("{\"drives\":[" DRIVE("a", "true") "," DRIVE("b", "true") "]}",
		"root block device");
	BAD_CFG("{\"machine-config\":{\"vcpu_count\":64,\"mem_size_mib\":1}}", "\"vcpu_count\"");
	BAD_CFG("{\"vsock\":null,\"vsock\":null}", "duplicate object key");
	BAD_CFG("[]", "expected a JSON object");
	BAD_CFG("{\"entropy\":{\"rate_limiter\":{\"ops\":{\"size\":5,\"refill_time\":0}}}}",
		"refill_time must be positive when size is set");
	assert_int_equal(api_config_from_json("{\"mmds-config\":null}", 20, cfg, err, sizeof(err)),
			 0);
	free(cfg);
}

static void test_state_init(void **state)
{
	struct api_state *st = malloc(sizeof(*st));

	(void)state;
	assert_int_equal(api_state_init(st, NULL), 0);
	assert_string_equal(st->id, API_DEFAULT_ID);
	assert_int_equal(api_state_init(st, ""), -EINVAL);
	assert_int_equal(api_state_init(st, "a b"), -EINVAL);
	assert_int_equal(
	    api_state_init(st, "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
	    -EINVAL);
	free(st);
}

static int cmdq_exec_ok(void *ctx, struct api_cmd *cmd, char *err, size_t errlen)
{
	(void)ctx;
	snprintf(err, errlen, "ran %d", cmd->kind);
	return cmd->kind == API_CMD_PAUSE ? -EBUSY : 0;
}

static void *cmdq_vmm(void *arg)
{
	struct cmdq *q = arg;
	int ran = 0;

	while (ran < 2) {
		int rc = cmdq_process(q, cmdq_exec_ok, NULL);

		assert_true(rc >= 0);
		ran += rc;
		usleep(1000);
	}
	return NULL;
}

static void test_cmdq(void **state)
{
	struct api_cmd cmd = {.kind = API_CMD_START};
	struct cmdq q;
	pthread_t th;
	char err[64];

	(void)state;
	assert_int_equal(cmdq_init(&q), 0);
	assert_int_equal(cmdq_process(&q, cmdq_exec_ok, NULL), 0); /* nothing pending */
	assert_int_equal(pthread_create(&th, NULL, cmdq_vmm, &q), 0);
	assert_int_equal(cmdq_submit(&q, &cmd, err, sizeof(err)), 0);
	assert_string_equal(err, "ran 1");
	cmd.kind = API_CMD_PAUSE;
	assert_int_equal(cmdq_submit(&q, &cmd, err, sizeof(err)), -EBUSY);
	pthread_join(th, NULL);
	cmdq_close(&q);
	assert_int_equal(cmdq_submit(&q, &cmd, err, sizeof(err)), -ESHUTDOWN);
	cmdq_destroy(&q);
}

static atomic_bool cmdq_may_reply;

/* The API thread: one command, and its reply once the test lets it. */
static void *cmdq_api(void *arg)
{
	struct cmdq *q = arg;
	struct api_cmd cmd = {.kind = API_CMD_START};
	char err[64];

	assert_int_equal(cmdq_submit(q, &cmd, err, sizeof(err)), 0);
	while (!atomic_load(&cmdq_may_reply))
		usleep(1000);
	cmdq_replied(q); /* as the server's on_request, once the reply is out */
	return NULL;
}

/* The VMM thread's wait for the reply to the command it ran (fork_finish). */
static void test_cmdq_replied(void **state)
{
	struct cmdq q;
	pthread_t th;

	(void)state;
	assert_int_equal(cmdq_init(&q), 0);
	for (int round = 0; round < 2; round++) {
		/* The second command needs a reply of its own: the first's does not count. */
		atomic_store(&cmdq_may_reply, false);
		assert_int_equal(pthread_create(&th, NULL, cmdq_api, &q), 0);
		while (!cmdq_process(&q, cmdq_exec_ok, NULL))
			usleep(1000);
		assert_int_equal(cmdq_wait_replied(&q, 20), -ETIMEDOUT);
		atomic_store(&cmdq_may_reply, true);
		assert_int_equal(cmdq_wait_replied(&q, 5000), 0);
		pthread_join(th, NULL);
	}
	/* Closed: nobody would reply, so nobody waits. */
	atomic_store(&cmdq_may_reply, false);
	assert_int_equal(pthread_create(&th, NULL, cmdq_api, &q), 0);
	while (!cmdq_process(&q, cmdq_exec_ok, NULL))
		usleep(1000);
	cmdq_close(&q);
	assert_int_equal(cmdq_wait_replied(&q, 5000), 0);
	atomic_store(&cmdq_may_reply, true);
	pthread_join(th, NULL);
	cmdq_destroy(&q);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_get_endpoints, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_routing_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_boot_source, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_machine_config, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_drives, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_network_and_vsock, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_logger_metrics, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_actions_and_vm_state, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_entropy, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rate_limiters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_config_document, setup, teardown),
	    cmocka_unit_test(test_state_init),
	    cmocka_unit_test(test_cmdq),
	    cmocka_unit_test(test_cmdq_replied),
	};
	return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
