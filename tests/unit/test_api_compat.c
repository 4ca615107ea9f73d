// SPDX-License-Identifier: Apache-2.0
/*
 * What Firecracker's clients read and send beyond the basics (issue 16):
 * the version they gate features on, the full GET /vm/config key set, the
 * Deprecation header, metrics emit_id/properties, snapshot-load huge_pages
 * and PUT-time checks of the host files a request names.
 */
#include <jansson.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"

#include "api.h"
#include "config.h"
#include "device.h"
#include "launch.h"

#include "api_client.h"

/*
 * One version everywhere a client looks: GET /version, GET /'s vmm_version
 * and `ember --version`, whose first line Kata splits into words (the second
 * without its "v" must be a semver >= 0.21.1) and the go-sdk's tests match
 * from "Firecracker v" to the end of the line.
 */
static void test_identity(void **state)
{
	struct t *t = *state;
	char *text = NULL, *nl, *word;
	unsigned major, minor, patch;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	json_t *o;

	assert_int_equal(GET("/version"), 200);
	o = body_json(t);
	assert_int_equal(json_object_size(o), 1);
	assert_string_equal(json_string_value(json_object_get(o, "firecracker_version")),
			    EMBER_FC_VERSION);
	json_decref(o);
	assert_int_equal(GET("/"), 200);
	o = body_json(t);
	assert_string_equal(json_string_value(json_object_get(o, "vmm_version")), EMBER_FC_VERSION);
	assert_string_equal(json_string_value(json_object_get(o, "app_name")), "ember");
	json_decref(o);

	assert_non_null(f);
	cli_print_version(f);
	fclose(f);
	assert_int_equal(strncmp(text, "Firecracker v", 13), 0);
	nl = strchr(text, '\n');
	assert_non_null(nl);
	*nl = '\0';
	assert_string_equal(text + 13, EMBER_FC_VERSION); /* the go-sdk's regexp */
	word = strchr(text, ' ') + 1;			  /* Kata: fields[1] */
	assert_null(strchr(word, ' '));
	assert_int_equal(sscanf(word, "v%u.%u.%u", &major, &minor, &patch), 3);
	assert_true(major > 0 || minor > 21 || (minor == 21 && patch >= 1));
	assert_non_null(strstr(nl + 1, "ember " EMBER_VERSION)); /* and ember's own */
	free(text);
}

/*
 * GET /vm/config carries every key of Firecracker's VmmConfig, with its
 * empty values for what is not configured (its boot source is never null),
 * and --config-file takes that document back.
 */
static void test_vm_config_keys(void **state)
{
	static const char *const nulls[] = {"balloon", "cpu-config",	 "mmds-config",
					    "vsock",   "memory-hotplug", "entropy"};
	static const char *const lists[] = {"drives", "network-interfaces", "pmem"};
	struct t *t = *state;
	struct api_vm_config *cfg = malloc(sizeof(*cfg));
	char err[API_ERR_MAX];
	json_t *o, *b;

	assert_int_equal(GET("/vm/config"), 200);
	o = body_json(t);
	for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
		if (!json_is_null(json_object_get(o, nulls[i])))
			fail_msg("\"%s\" is not null in %s", nulls[i], t->resp.body);
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++) {
		json_t *l = json_object_get(o, lists[i]);

		if (!json_is_array(l) || json_array_size(l))
			fail_msg("\"%s\" is not [] in %s", lists[i], t->resp.body);
	}
	assert_true(json_is_object(json_object_get(o, "machine-config")));
	b = json_object_get(o, "boot-source");
	assert_int_equal(json_object_size(b), 3);
	assert_string_equal(json_string_value(json_object_get(b, "kernel_image_path")), "");
	assert_true(json_is_null(json_object_get(b, "initrd_path")));
	assert_true(json_is_null(json_object_get(b, "boot_args")));
	assert_null(json_object_get(o, "serial")); /* Firecracker never writes it */
	json_decref(o);
	/* The same document is a config file (an empty boot source is none)... */
	assert_int_equal(
	    api_config_from_json(t->resp.body, strlen(t->resp.body), cfg, err, sizeof(err)), 0);
	assert_false(cfg->boot.set);
	/* ...and so is Firecracker's, "serial" included. */
	const char *fc = "{\"balloon\":null,\"drives\":[],\"boot-source\":{\"kernel_image_path\":"
			 "\"/k\",\"initrd_path\":null,\"boot_args\":null},\"cpu-config\":null,"
			 "\"logger\":null,\"machine-config\":{\"vcpu_count\":1,\"mem_size_mib\":"
			 "128,\"smt\":false,\"track_dirty_pages\":false,\"huge_pages\":\"None\"},"
			 "\"metrics\":null,\"mmds-config\":null,\"network-interfaces\":[],"
			 "\"vsock\":null,\"entropy\":null,\"pmem\":[],\"memory-hotplug\":null,"
			 "\"serial\":null}";
	assert_int_equal(api_config_from_json(fc, strlen(fc), cfg, err, sizeof(err)), 0);
	assert_string_equal(cfg->boot.kernel_image_path, "/k");
	/* Every section has a reader now; a key Firecracker lacks is refused by name. */
	fc = "{\"pmem\":[{\"id\":\"p\",\"path_on_host\":\"/p\"}]}";
	assert_int_equal(api_config_from_json(fc, strlen(fc), cfg, err, sizeof(err)), 0);
	assert_int_equal(cfg->nr_pmem, 1);
	fc = "{\"floppy\":null}";
	assert_int_not_equal(api_config_from_json(fc, strlen(fc), cfg, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "unknown section \"floppy\""));
	fc = "{\"boot-source\":{\"kernel_image_path\":\"\",\"boot_args\":\"x\"}}";
	assert_int_not_equal(api_config_from_json(fc, strlen(fc), cfg, err, sizeof(err)), 0);
	free(cfg);

	/* Drives and interfaces carry all of Firecracker's fields, in its order. */
	assert_int_equal(
	    PUT("/drives/d",
		"{\"drive_id\":\"d\",\"path_on_host\":\"/d\",\"is_root_device\":false}"),
	    204);
	assert_int_equal(
	    PUT("/network-interfaces/e", "{\"iface_id\":\"e\",\"host_dev_name\":\"t\"}"), 204);
	assert_int_equal(GET("/vm/config"), 200);
	assert_non_null(strstr(
	    t->resp.body, "\"drives\":[{\"drive_id\":\"d\",\"partuuid\":null,\"is_root_device\":"
			  "false,\"cache_type\":\"Unsafe\",\"is_read_only\":false,\"path_on_host\":"
			  "\"/d\",\"rate_limiter\":null,\"io_engine\":\"Sync\",\"socket\":null}]"));
	assert_non_null(strstr(t->resp.body,
			       "\"network-interfaces\":[{\"iface_id\":\"e\","
			       "\"host_dev_name\":\"t\",\"guest_mac\":null,\"mtu\":null,"
			       "\"rx_rate_limiter\":null,\"tx_rate_limiter\":null}]"));
}

/*
 * Firecracker's deprecated fields answer as usual plus "Deprecation: true":
 * vsock_id, cpu_template (PUT and PATCH), snapshot-load's mem_file_path and
 * enable_diff_snapshots (when true), even when the VMM then refuses.
 */
static void test_deprecation(void **state)
{
	struct t *t = *state;
	char *out;
	size_t len;

	assert_int_equal(PUT("/vsock", "{\"guest_cid\":3,\"uds_path\":\"/v\"}"), 204);
	assert_false(t->resp.deprecated);
	assert_int_equal(PUT("/vsock", "{\"guest_cid\":3,\"uds_path\":\"/v\",\"vsock_id\":null}"),
			 204);
	assert_false(t->resp.deprecated);
	assert_int_equal(PUT("/vsock", "{\"guest_cid\":3,\"uds_path\":\"/v\",\"vsock_id\":\"v\"}"),
			 204);
	assert_true(t->resp.deprecated);
	/* A body that does not parse is only an error. */
	FAULT(PUT("/vsock", "{\"guest_cid\":3,\"vsock_id\":\"v\"}"), "uds_path");
	assert_false(t->resp.deprecated);
	assert_int_equal(PUT("/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64,"
						"\"cpu_template\":\"None\"}"),
			 204);
	assert_true(t->resp.deprecated);
	assert_int_equal(PATCH("/machine-config", "{\"mem_size_mib\":64}"), 204);
	assert_false(t->resp.deprecated);
	assert_int_equal(PATCH("/machine-config", "{\"cpu_template\":\"None\"}"), 204);
	assert_true(t->resp.deprecated);
	start_vm(t);
	FAULT(PATCH("/machine-config", "{\"cpu_template\":\"None\"}"), "after starting");
	assert_true(t->resp.deprecated);
	FAULT(PUT("/machine-config", "{\"vcpu_count\":1,\"mem_size_mib\":64}"), "after starting");
	assert_false(t->resp.deprecated);

	/* http.c writes it where micro_http does: after Connection. */
	assert_int_equal(http_response_build(204, NULL, 0, true, true, &out, &len), 0);
	assert_int_equal(len, strlen("HTTP/1.1 204 No Content\r\nServer: Firecracker API\r\n"
				     "Connection: keep-alive\r\nDeprecation: true\r\n\r\n"));
	assert_memory_equal(out,
			    "HTTP/1.1 204 No Content\r\nServer: Firecracker API\r\n"
			    "Connection: keep-alive\r\nDeprecation: true\r\n\r\n",
			    len);
	free(out);
}

static void test_deprecation_snapshot_load(void **state)
{
	struct t *t = *state;

	PUT("/snapshot/load", "{\"snapshot_path\":\"/s\",\"mem_backend\":{\"backend_type\":"
			      "\"File\",\"backend_path\":\"/m\"},\"enable_diff_snapshots\":false}");
	assert_false(t->resp.deprecated);
	assert_int_equal(complete(t, -EINVAL, "no"), 400);
	PUT("/snapshot/load", "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\"}");
	assert_true(t->resp.deprecated);
	assert_int_equal(complete(t, -EINVAL, "no such file"), 400);
	assert_true(t->resp.deprecated); /* a refusal by the VMM keeps it */
	PUT("/snapshot/load", "{\"snapshot_path\":\"/s\",\"mem_backend\":{\"backend_type\":"
			      "\"File\",\"backend_path\":\"/m\"},\"enable_diff_snapshots\":true}");
	assert_true(t->resp.deprecated);
	assert_int_equal(complete(t, 0, ""), 204);
	assert_true(t->resp.deprecated);
}

/*
 * PUT /metrics takes Firecracker's emit_id and properties (a map of
 * strings, written in key order like its BTreeMap) and hands them to the
 * VMM, which writes them on every line; GET /vm/config shows them.
 */
static void test_metrics_fields(void **state)
{
	struct t *t = *state;
	char big[API_METRICS_PROPS_MAX + 64];
	int n;

	PUT("/metrics", "{\"metrics_path\":\"/m\",\"emit_id\":true,"
			"\"properties\":{\"team\":\"ember\",\"az\":\"a\\\"1\"}}");
	assert_int_equal(t->res, API_EXEC);
	assert_int_equal(t->cmd.kind, API_CMD_METRICS);
	assert_true(t->cmd.metrics.emit_id);
	assert_string_equal(t->cmd.metrics.properties, "{\"az\":\"a\\\"1\",\"team\":\"ember\"}");
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(GET("/vm/config"), 200);
	assert_non_null(strstr(t->resp.body,
			       "\"metrics\":{\"metrics_path\":\"/m\",\"emit_id\":true,"
			       "\"properties\":{\"az\":\"a\\\"1\",\"team\":\"ember\"}}"));
	FAULT(PUT("/metrics", "{\"metrics_path\":\"/m\"}"), "Reinitialization");

	api_state_init(&t->st, "vm-2");
	PUT("/metrics", "{\"metrics_path\":\"/m\",\"properties\":{}}");
	assert_false(t->cmd.metrics.emit_id);
	assert_string_equal(t->cmd.metrics.properties, "{}"); /* Some(empty map) */
	assert_int_equal(complete(t, -EIO, "Cannot open /m"), 400);
	PUT("/metrics", "{\"metrics_path\":\"/m\",\"properties\":null,\"emit_id\":null}");
	assert_string_equal(t->cmd.metrics.properties, "");
	assert_int_equal(complete(t, -EIO, "Cannot open /m"), 400);
	FAULT(PUT("/metrics", "{\"metrics_path\":\"/m\",\"properties\":{\"a\":1}}"),
	      "the value of \"a\" must be a string");
	FAULT(PUT("/metrics", "{\"metrics_path\":\"/m\",\"properties\":[]}"),
	      "\"properties\" must be an object");
	FAULT(PUT("/metrics", "{\"metrics_path\":\"/m\",\"emit_id\":\"yes\"}"),
	      "\"emit_id\" must be a boolean");
	n = snprintf(big, sizeof(big), "{\"metrics_path\":\"/m\",\"properties\":{\"k\":\"");
	memset(big + n, 'x', API_METRICS_PROPS_MAX);
	strcpy(big + n + API_METRICS_PROPS_MAX, "\"}}");
	FAULT(PUT("/metrics", big), "\"properties\" is longer than");
}

#define LOAD(backend, huge)                                                                        \
	"{\"snapshot_path\":\"/s\",\"mem_backend\":{\"backend_type\":\"" backend "\","             \
	"\"backend_path\":\"/m\"}" huge "}"

/* Snapshot load's huge_pages: what ember does (4 KiB, 2 MiB from Uffd) works, the rest is refused
 * by name. */
static void test_load_huge_pages(void **state)
{
	static const char *const ok[] = {
	    LOAD("File", ""),
	    LOAD("File", ",\"huge_pages\":\"None\""),
	    LOAD("Uffd", ",\"huge_pages\":\"Snapshot\""),
	    LOAD("File", ",\"huge_pages\":null"),
	    LOAD("Uffd", ",\"huge_pages\":\"2M\""),
	};
	struct t *t = *state;

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		PUT("/snapshot/load", ok[i]);
		assert_int_equal(t->res, API_EXEC); /* to the VMM, which refuses "/s" */
		assert_int_equal(complete(t, -EINVAL, "no"), 400);
	}
	FAULT(PUT("/snapshot/load", LOAD("File", ",\"huge_pages\":\"2M\"")),
	      "Cannot restore hugetlbfs backed snapshot by mapping the memory file. Please use "
	      "uffd.");
	FAULT(PUT("/snapshot/load", LOAD("File", ",\"huge_pages\":\"Transparent\"")),
	      "\"huge_pages\" \"Transparent\" is not supported by ember");
	FAULT(PUT("/snapshot/load", LOAD("File", ",\"huge_pages\":\"4K\"")),
	      "\"huge_pages\" must be one of \"Snapshot\", \"None\", \"Transparent\", \"2M\"");
	FAULT(PUT("/snapshot/load", LOAD("File", ",\"huge_pages\":true")), "\"huge_pages\"");
	assert_int_equal(PUT("/snapshot/load", LOAD("File", ",\"huge_pages\":\"None\"")), 500);
	assert_int_equal(complete(t, 0, ""), 204); /* and a load that works, works */
	assert_int_equal(t->st.vm_state, API_VM_PAUSED);
}

/*
 * Pre-boot PUTs naming host resources go to the VMM first (API_CMD_CHECK
 * with the configuration they would make); a refusal is a 400 that leaves
 * everything as it was, snapshot loading included.
 */
static void test_put_vetted(void **state)
{
	struct t *t = *state;

	t->vet_by_hand = true;
	PUT("/boot-source", "{\"kernel_image_path\":\"/k\",\"initrd_path\":\"/i\"}");
	assert_int_equal(t->res, API_EXEC);
	assert_int_equal(t->cmd.kind, API_CMD_CHECK);
	assert_int_equal(t->cmd.check.what, API_CHECK_BOOT);
	assert_string_equal(t->cmd.check.next->boot.initrd_path, "/i");
	assert_false(t->st.cfg.boot.set); /* nothing changes before the verdict */
	FAULT(complete(t, -ENOENT, "Boot source error: The kernel file cannot be opened: /k"),
	      "The kernel file cannot be opened: /k");
	assert_false(t->st.cfg.boot.set);
	assert_false(t->st.boot_configured);
	PUT("/drives/d", "{\"drive_id\":\"d\",\"path_on_host\":\"/d\",\"is_root_device\":true}");
	assert_int_equal(t->cmd.check.what, API_CHECK_DRIVE);
	assert_string_equal(t->cmd.check.id, "d");
	assert_int_equal(t->cmd.check.next->nr_drives, 1);
	assert_int_equal(complete(t, -ENOENT, "no"), 400);
	assert_int_equal(t->st.cfg.nr_drives, 0);
	PUT("/network-interfaces/eth0", "{\"iface_id\":\"eth0\",\"host_dev_name\":\"tap0\"}");
	assert_int_equal(t->cmd.check.what, API_CHECK_NET);
	assert_int_equal(complete(t, -ENODEV, "no"), 400);
	PUT("/vsock", "{\"guest_cid\":3,\"uds_path\":\"/v\"}");
	assert_int_equal(t->cmd.check.what, API_CHECK_VSOCK);
	assert_int_equal(complete(t, -ENOSPC, "no"), 400);
	PUT("/entropy", "{}");
	assert_int_equal(t->cmd.check.what, API_CHECK_DEVICES);
	assert_int_equal(complete(t, -ENOSPC, "no"), 400);
	assert_false(t->st.cfg.vsock.set || t->st.cfg.entropy.set || t->st.cfg.nr_nets);
	/* Nothing was configured: a snapshot may still be loaded. */
	PUT("/snapshot/load", "{\"snapshot_path\":\"/s\",\"mem_file_path\":\"/m\"}");
	assert_int_equal(t->cmd.kind, API_CMD_SNAPSHOT_LOAD);
	assert_int_equal(complete(t, -ENOENT, "no"), 400);
	/* Collection rules come first, on the API thread. */
	PUT("/drives/d", "{\"drive_id\":\"d\",\"path_on_host\":\"/d\",\"is_root_device\":true}");
	assert_int_equal(complete(t, 0, ""), 204);
	assert_int_equal(t->st.cfg.nr_drives, 1);
	assert_true(t->st.boot_configured);
	FAULT(PUT("/drives/e",
		  "{\"drive_id\":\"e\",\"path_on_host\":\"/e\",\"is_root_device\":true}"),
	      "a root block device already exists");
	/* A command line longer than the kernel takes is refused at once. */
	char body[API_CMDLINE_MAX + 64];
	int n = snprintf(body, sizeof(body), "{\"kernel_image_path\":\"/k\",\"boot_args\":\"");
	memset(body + n, 'a', API_CMDLINE_MAX);
	strcpy(body + n + API_CMDLINE_MAX, "\"}");
	FAULT(PUT("/boot-source", body), "\"boot_args\" is longer than 2047 bytes");
}

/* The VMM's side: real files, each refusal naming the file and why. */
struct vet {
	char dir[64], ok[96], odd[96], fifo[96];
	struct api_vm_config cfg;
	struct api_cmd cmd;
	char err[API_ERR_MAX];
};

static int vet(struct vet *v, enum api_check_what what, const char *id)
{
	v->cmd = (struct api_cmd){.kind = API_CMD_CHECK};
	v->cmd.check.what = what;
	snprintf(v->cmd.check.id, sizeof(v->cmd.check.id), "%s", id);
	v->cmd.check.next = &v->cfg;
	v->err[0] = '\0';
	return api_check_run(&v->cmd, v->err, sizeof(v->err));
}

#define VET_FAILS(v, what, id, needle)                                                             \
	do {                                                                                       \
		assert_int_not_equal(vet(v, what, id), 0);                                         \
		if (!strstr((v)->err, needle))                                                     \
			fail_msg("\"%s\" lacks \"%s\"", (v)->err, needle);                         \
	} while (0)

static void vet_drive(struct vet *v, const char *path)
{
	v->cfg.nr_drives = 1;
	v->cfg.drives[0] = (struct api_drive){.drive_id = "rootfs", .is_root_device = true};
	snprintf(v->cfg.drives[0].path_on_host, API_PATH_MAX, "%s", path);
}

static void test_vmm_vets_files(void **state)
{
	struct vet *v = calloc(1, sizeof(*v));
	FILE *f;

	(void)state;
	strcpy(v->dir, "/tmp/ember-vet-XXXXXX");
	assert_non_null(mkdtemp(v->dir));
	snprintf(v->ok, sizeof(v->ok), "%s/ok.img", v->dir);
	snprintf(v->odd, sizeof(v->odd), "%s/odd.img", v->dir);
	snprintf(v->fifo, sizeof(v->fifo), "%s/fifo", v->dir);
	f = fopen(v->ok, "w");
	assert_int_equal(ftruncate(fileno(f), 4096), 0);
	fclose(f);
	f = fopen(v->odd, "w");
	fputs("odd", f);
	fclose(f);
	assert_int_equal(mkfifo(v->fifo, 0600), 0);
	api_config_init(&v->cfg);

	v->cfg.boot.set = true;
	snprintf(v->cfg.boot.kernel_image_path, API_PATH_MAX, "%s", v->ok);
	assert_int_equal(vet(v, API_CHECK_BOOT, ""), 0);
	snprintf(v->cfg.boot.kernel_image_path, API_PATH_MAX, "%s/none", v->dir);
	VET_FAILS(v, API_CHECK_BOOT, "", "Boot source error: The kernel file cannot be opened: ");
	VET_FAILS(v, API_CHECK_BOOT, "", "/none: No such file or directory");
	/* A FIFO or a directory is refused at once, never waited on. */
	snprintf(v->cfg.boot.kernel_image_path, API_PATH_MAX, "%s", v->fifo);
	VET_FAILS(v, API_CHECK_BOOT, "", "fifo: not a regular file");
	snprintf(v->cfg.boot.kernel_image_path, API_PATH_MAX, "%s", v->dir);
	VET_FAILS(v, API_CHECK_BOOT, "", "not a regular file");
	snprintf(v->cfg.boot.kernel_image_path, API_PATH_MAX, "%s", v->ok);
	snprintf(v->cfg.boot.initrd_path, API_PATH_MAX, "%s", v->fifo);
	VET_FAILS(v, API_CHECK_BOOT, "", "The initrd file cannot be opened");

	vet_drive(v, v->ok);
	assert_int_equal(vet(v, API_CHECK_DRIVE, "rootfs"), 0);
	vet_drive(v, "/nonexistent/rootfs.ext4");
	VET_FAILS(v, API_CHECK_DRIVE, "rootfs",
		  "Drive config error: Unable to create the virtio block device: drive rootfs: "
		  "/nonexistent/rootfs.ext4: No such file or directory");
	vet_drive(v, v->odd);
	VET_FAILS(v, API_CHECK_DRIVE, "rootfs", "not a multiple of 512");
	vet_drive(v, v->fifo);
	VET_FAILS(v, API_CHECK_DRIVE, "rootfs", "not a regular file or block device");
	vet_drive(v, v->dir);
	VET_FAILS(v, API_CHECK_DRIVE, "rootfs", "Is a directory"); /* opened for writing */

	/* No such tap: named, and ember never creates one. */
	vet_drive(v, v->ok);
	v->cfg.nr_nets = 1;
	v->cfg.nets[0] = (struct api_net){.iface_id = "eth0", .host_dev_name = "embernotap9"};
	VET_FAILS(v, API_CHECK_NET, "eth0",
		  "Network config error: Cannot open/create the tap device: network interface "
		  "eth0: tap embernotap9");

	/* Firecracker binds the vsock's socket at PUT: a path that cannot be one is refused. */
	v->cfg.nr_nets = 0;
	v->cfg.vsock = (struct api_vsock){.set = true, .guest_cid = 3};
	snprintf(v->cfg.vsock.uds_path, API_UDS_PATH_MAX, "%s/v.sock", v->dir);
	assert_int_equal(vet(v, API_CHECK_VSOCK, "vsock"), 0);
	snprintf(v->cfg.vsock.uds_path, API_UDS_PATH_MAX, "%s", v->ok);
	VET_FAILS(v, API_CHECK_VSOCK, "vsock",
		  "Vsock config error: Cannot create backend for vsock device: vsock vsock: ");
	VET_FAILS(v, API_CHECK_VSOCK, "vsock", "ok.img exists and is not a socket");
	snprintf(v->cfg.vsock.uds_path, API_UDS_PATH_MAX, "%s/none/v.sock", v->dir);
	VET_FAILS(v, API_CHECK_VSOCK, "vsock", "none/v.sock: No such file or directory");
	v->cfg.vsock.set = false;

	/* What the API takes, InstanceStart can attach: 16 virtio devices in all. */
	v->cfg.nr_nets = 0;
	v->cfg.nr_drives = API_MAX_DRIVES;
	for (unsigned i = 0; i < API_MAX_DRIVES; i++) {
		v->cfg.drives[i] = (struct api_drive){0};
		snprintf(v->cfg.drives[i].drive_id, API_ID_MAX, "d%u", i);
		snprintf(v->cfg.drives[i].path_on_host, API_PATH_MAX, "%s", v->ok);
	}
	assert_int_equal(vet(v, API_CHECK_DRIVE, "d15"), 0);
	v->cfg.vsock = (struct api_vsock){.set = true, .guest_cid = 3, .uds_path = "/v"};
	VET_FAILS(v, API_CHECK_DEVICES, "", "Device config error: more than 16 devices in all");

	unlink(v->ok);
	unlink(v->odd);
	unlink(v->fifo);
	rmdir(v->dir);
	free(v);
}

/*
 * A root drive with partuuid boots with root=PARTUUID=... (rw or ro), as
 * Firecracker's does; without is_root_device it changes nothing.  Only
 * what cannot alter the command line's meaning is taken.
 */
static void test_partuuid(void **state)
{
	const struct vdev_type *blk = vdev_type_find("block");
	struct api_vm_config *a = calloc(1, sizeof(*a));
	struct vdev_configs *l = malloc(sizeof(*l));
	char err[API_ERR_MAX], buf[VDEV_CMDLINE_MAX];
	const char *arg;

	(void)state;
	api_config_init(a);
	a->nr_drives = 2;
	a->drives[0] = (struct api_drive){.drive_id = "rootfs",
					  .path_on_host = "/r",
					  .is_root_device = true,
					  .partuuid = "e3be4d01-01"};
	a->drives[1] = (struct api_drive){.drive_id = "data",
					  .path_on_host = "/d",
					  .partuuid = "0a0b0c0d-0e0f-1011-1213-141516171819"};
	assert_int_equal(api_devices_to_config(a, l, err, sizeof(err)), 0);
	arg = blk->cmdline(l->dev[0].data, buf, sizeof(buf));
	assert_string_equal(arg, " root=PARTUUID=e3be4d01-01 rw");
	assert_null(blk->cmdline(l->dev[1].data, buf, sizeof(buf)));
	/* Back for GET /vm/config after a restore. */
	api_devices_from_config(l, a);
	assert_string_equal(a->drives[0].partuuid, "e3be4d01-01");
	a->drives[0].is_read_only = true;
	assert_int_equal(api_devices_to_config(a, l, err, sizeof(err)), 0);
	assert_string_equal(blk->cmdline(l->dev[0].data, buf, sizeof(buf)),
			    " root=PARTUUID=e3be4d01-01 ro");
	a->drives[0].partuuid[0] = '\0';
	assert_int_equal(api_devices_to_config(a, l, err, sizeof(err)), 0);
	assert_string_equal(blk->cmdline(l->dev[0].data, buf, sizeof(buf)), " root=/dev/vda ro");
	/* A space or a quote would smuggle arguments onto the command line. */
	snprintf(a->drives[0].partuuid, API_PARTUUID_MAX, "x init=/bin/sh");
	assert_int_not_equal(api_devices_to_config(a, l, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "drive rootfs: partuuid must be"));
	snprintf(a->drives[0].partuuid, API_PARTUUID_MAX, "a\"b");
	assert_int_not_equal(api_devices_to_config(a, l, err, sizeof(err)), 0);
	/* The CLI's --disk takes it too. */
	assert_int_equal(
	    blk->parse("/r,root,partuuid=e3be4d01-01", l->dev[0].data, err, sizeof(err)), 0);
	assert_string_equal(blk->cmdline(l->dev[0].data, buf, sizeof(buf)),
			    " root=PARTUUID=e3be4d01-01 rw");
	assert_int_equal(blk->parse("/r,partuuid=", l->dev[0].data, err, sizeof(err)), -EINVAL);
	assert_int_equal(blk->parse("/r,partuuid=a;b", l->dev[0].data, err, sizeof(err)), -EINVAL);
	assert_int_equal(blk->parse("/r,partuuid=0123456789012345678901234567890123456789012345678"
				    "9012345678901234",
				    l->dev[0].data, err, sizeof(err)),
			 -EINVAL);
	free(l);
	free(a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_vm_config_keys, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deprecation, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deprecation_snapshot_load, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_metrics_fields, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_load_huge_pages, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_put_vetted, setup, teardown),
	    cmocka_unit_test(test_vmm_vets_files),
	    cmocka_unit_test(test_partuuid),
	};
	return cmocka_run_group_tests_name("api_compat", tests, NULL, NULL);
}
