// SPDX-License-Identifier: Apache-2.0
/* `ember run` argument parsing: defaults, both option forms, every refusal. */
#include <stdio.h>

#include "blk.h"
#include "config.h"
#include "net.h"
#include "unit.h"
#include "vsock.h"

static int parse(struct vm_config *cfg, enum cli_action *act, char *err, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	va_start(ap, err);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	return cli_parse(argc, argv, cfg, act, err, 256);
}

#define P(...) parse(&cfg, &act, err, "ember", __VA_ARGS__, (char *)NULL)

static void test_defaults(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("run", "--kernel", "vmlinux"), 0);
	assert_int_equal(act, CLI_RUN);
	assert_string_equal(cfg.kernel, "vmlinux");
	assert_null(cfg.initrd);
	assert_string_equal(cfg.cmdline, CONFIG_DEFAULT_CMDLINE);
	assert_int_equal(cfg.vcpus, 1);
	assert_int_equal(cfg.mem_mib, 128);
	assert_int_equal(cfg.console, CONSOLE_STDIO);
	assert_int_equal(cfg.console_limit, 64ull << 20);
	assert_int_equal(
	    P("run", "--kernel", "vmlinux", "--console", "file:/c", "--console-limit", "5"), 0);
	assert_int_equal(cfg.console_limit, 5ull << 20);
	assert_int_equal(P("run", "--kernel", "vmlinux"), 0);
	assert_int_equal(cfg.log_level, LOG_INFO);
}

static void test_all_options(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("run", "--kernel", "k", "--initrd", "i", "--cmdline", "a b=c", "--vcpus",
			   "32", "--mem=4096", "--console", "file:/tmp/x", "--log-level=debug"),
			 0);
	assert_string_equal(cfg.initrd, "i");
	assert_string_equal(cfg.cmdline, "a b=c");
	assert_int_equal(cfg.vcpus, 32);
	assert_int_equal(cfg.mem_mib, 4096);
	assert_int_equal(cfg.console, CONSOLE_FILE);
	assert_string_equal(cfg.console_path, "/tmp/x");
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_int_equal(P("run", "--kernel=k", "--console=none"), 0);
	assert_int_equal(cfg.console, CONSOLE_NONE);
	assert_string_equal(cfg.kernel, "k");
	assert_int_equal(P("run", "--kernel", "k", "--cmdline="), 0); /* empty is allowed */
	assert_string_equal(cfg.cmdline, "");
}

static void test_help_version(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("--help"), 0);
	assert_int_equal(act, CLI_HELP);
	assert_int_equal(P("run", "--help"), 0);
	assert_int_equal(act, CLI_HELP);
	assert_int_equal(P("--version"), 0);
	assert_int_equal(act, CLI_VERSION);
}

static void expect_error(const char *needle, ...)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256], *argv[32] = {"ember"};
	int argc = 1;
	va_list ap;

	va_start(ap, needle);
	while ((argv[argc] = va_arg(ap, char *)))
		argc++;
	va_end(ap);
	assert_int_equal(cli_parse(argc, argv, &cfg, &act, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not mention '%s'", err, needle);
}

static void test_refusals(void **state)
{
	(void)state;
	expect_error("missing command", (char *)NULL);
	expect_error("unknown command", "boot", (char *)NULL);
	expect_error("--kernel is required", "run", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", "0", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", "33", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", "-1", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", "2x", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", "", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", " 2", (char *)NULL);
	expect_error("--vcpus", "run", "--kernel", "k", "--vcpus", "99999999999999999999999",
		     (char *)NULL);
	expect_error("--mem", "run", "--kernel", "k", "--mem", "0", (char *)NULL);
	expect_error("--mem", "run", "--kernel", "k", "--mem", "100000000", (char *)NULL);
	expect_error("--mem", "run", "--kernel", "k", "--mem", "18446744073709551616",
		     (char *)NULL);
	expect_error("--mem", "run", "--kernel", "k", "--mem", "1G", (char *)NULL);
	expect_error("--console", "run", "--kernel", "k", "--console", "tty", (char *)NULL);
	expect_error("--console", "run", "--kernel", "k", "--console", "file:", (char *)NULL);
	expect_error("--console-limit", "run", "--kernel", "k", "--console-limit", "0",
		     (char *)NULL);
	expect_error("--console-limit", "run", "--kernel", "k", "--console-limit", "1M",
		     (char *)NULL);
	expect_error("--log-level", "run", "--kernel", "k", "--log-level", "loud", (char *)NULL);
	expect_error("needs a value", "run", "--kernel", (char *)NULL);
	expect_error("unknown option", "run", "--kernel", "k", "--frobnicate", "1", (char *)NULL);
	/* Last on the line: unknown, not "needs a value". */
	expect_error("unknown option", "run", "--kernel", "k", "--frobnicate", (char *)NULL);
	expect_error("unknown option", "run", "--kernel", "k",
		     "--an-option-name-far-longer-than-any-we-have=1", (char *)NULL);
	expect_error("unexpected argument", "run", "vmlinux", (char *)NULL);
}

/* The settings of the @nth device of type @name in @cfg (in the order given), or NULL. */
static const void *dev_cfg(const struct vm_config *cfg, const char *name, unsigned nth)
{
	const struct vdev_type *t = vdev_type_find(name);

	assert_non_null(t);
	for (unsigned i = 0; i < cfg->devs.nr; i++)
		if (cfg->devs.dev[i].type == t && nth-- == 0)
			return cfg->devs.dev[i].data;
	return NULL;
}

/* --net and --vsock build the same config structs the API fills. */
static void test_net_vsock(void **state)
{
	const struct vnet_config *n0, *n1;
	const struct vsock_config *v;
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("run", "--kernel", "k", "--net", "tap=tap0,mac=06:00:ac:10:00:02",
			   "--net", "tap=tap1,id=eth1", "--vsock", "cid=3,uds=/tmp/v.sock"),
			 0);
	assert_int_equal(cfg.devs.nr, 3);
	assert_int_equal(vdev_configs_count(&cfg.devs, vdev_type_find("net")), 2);
	n0 = dev_cfg(&cfg, "net", 0);
	n1 = dev_cfg(&cfg, "net", 1);
	assert_non_null(n0);
	assert_non_null(n1);
	assert_string_equal(n0->host_dev_name, "tap0");
	assert_string_equal(n0->iface_id, "tap0"); /* no id=: the tap's name */
	assert_true(n0->has_mac);
	assert_int_equal(n0->mac[0], 6);
	assert_int_equal(n0->mac[4], 0);
	assert_int_equal(n0->mac[5], 2);
	assert_string_equal(n1->iface_id, "eth1");
	assert_string_equal(n1->host_dev_name, "tap1");
	assert_false(n1->has_mac);
	assert_int_equal(vdev_configs_count(&cfg.devs, vdev_type_find("vsock")), 1);
	v = dev_cfg(&cfg, "vsock", 0);
	assert_non_null(v);
	assert_int_equal(v->guest_cid, 3);
	assert_string_equal(v->uds_path, "/tmp/v.sock");
	assert_string_equal(v->vsock_id, "vsock");
	/* In the order given: the CLI's order is the attach order. */
	assert_ptr_equal(cfg.devs.dev[0].type, vdev_type_find("net"));
	assert_ptr_equal(cfg.devs.dev[2].type, vdev_type_find("vsock"));
	/* --opt=value works for device options too. */
	assert_int_equal(P("run", "--kernel", "k", "--net=tap=tap7", "--vsock=cid=9,uds=/v"), 0);
	assert_string_equal(((const struct vnet_config *)dev_cfg(&cfg, "net", 0))->host_dev_name,
			    "tap7");
	assert_int_equal(((const struct vsock_config *)dev_cfg(&cfg, "vsock", 0))->guest_cid, 9);

	expect_error("interface or tap used twice", "run", "--kernel", "k", "--net", "tap=tap0",
		     "--net", "tap=tap0,id=x", (char *)NULL);
	expect_error("--net 'tap=tap1,id=eth0': net id 'eth0' used twice", "run", "--kernel", "k",
		     "--net", "tap=tap0,id=eth0", "--net", "tap=tap1,id=eth0", (char *)NULL);
	expect_error("--net", "run", "--kernel", "k", "--net", "mac=06:00:00:00:00:01",
		     (char *)NULL);
	expect_error("--vsock", "run", "--kernel", "k", "--vsock", "cid=2,uds=/tmp/v",
		     (char *)NULL);
	expect_error("only one vsock device", "run", "--kernel", "k", "--vsock", "cid=3,uds=/a",
		     "--vsock", "cid=4,uds=/b", (char *)NULL);
	expect_error("--net 'tap=i': more than 8 net devices", "run", "--kernel", "k", "--net",
		     "tap=a", "--net", "tap=b", "--net", "tap=c", "--net", "tap=d", "--net",
		     "tap=e", "--net", "tap=f", "--net", "tap=g", "--net", "tap=h", "--net",
		     "tap=i", (char *)NULL);
	/* Eight are fine (the limit was 4). */
	assert_int_equal(P("run", "--kernel", "k", "--net", "tap=a", "--net", "tap=b", "--net",
			   "tap=c", "--net", "tap=d", "--net", "tap=e", "--net", "tap=f", "--net",
			   "tap=g", "--net", "tap=h"),
			 0);
	assert_int_equal(vdev_configs_count(&cfg.devs, vdev_type_find("net")), 8);
	assert_string_equal(((const struct vnet_config *)dev_cfg(&cfg, "net", 7))->host_dev_name,
			    "h");
	expect_error("needs a value", "run", "--kernel", "k", "--net", (char *)NULL);
	expect_error("not an option of 'ember run'", "run", "--kernel", "k", "--no-api",
		     (char *)NULL);
	expect_error("is an option of 'ember run'", "--api-sock", "s", "--disk", "d", (char *)NULL);
	assert_int_equal(P("run", "--kernel", "k", "--no-seccomp"), 0);
	assert_true(cfg.no_seccomp);
	assert_false(cfg.allow_kvm_pvm);
	assert_int_equal(cfg.devs.nr, 0);
	/* kvm-pvm is refused unless the user says the kernel is PVM-enabled. */
	assert_int_equal(P("run", "--kernel", "k", "--allow-kvm-pvm"), 0);
	assert_true(cfg.allow_kvm_pvm);
	assert_int_equal(P("--api-sock", "/s", "--allow-kvm-pvm"), 0);
	assert_true(cfg.allow_kvm_pvm);
	expect_error("takes no value", "run", "--kernel", "k", "--allow-kvm-pvm=1", (char *)NULL);
	/* ACPI by default, device hints too; each can go, not both. */
	assert_int_equal(P("run", "--kernel", "k"), 0);
	assert_false(cfg.no_acpi);
	assert_false(cfg.no_device_hints);
	assert_int_equal(P("run", "--kernel", "k", "--no-acpi"), 0);
	assert_true(cfg.no_acpi);
	assert_int_equal(P("run", "--kernel", "k", "--no-device-hints"), 0);
	assert_true(cfg.no_device_hints);
	expect_error("would find no devices", "run", "--kernel", "k", "--no-acpi",
		     "--no-device-hints", (char *)NULL);
	expect_error("takes no value", "run", "--kernel", "k", "--no-acpi=1", (char *)NULL);
}

/* Up to 16 disks (the VM's device budget), named disk<N> unless id= says otherwise. */
static void test_disks(void **state)
{
	char *argv[64] = {"ember", "run", "--kernel", "k"}, specs[VDEV_MAX + 1][16];
	const struct vblk_config *b;
	struct vm_config cfg;
	enum cli_action act;
	char err[256];
	int argc = 4;

	(void)state;
	assert_int_equal(P("run", "--kernel", "k", "--disk", "/a.img,id=data", "--disk",
			   "/r.img,root,ro,engine=sync", "--disk", "/c.img,engine=io_uring"),
			 0);
	assert_int_equal(cfg.devs.nr, 3);
	assert_int_equal(vdev_configs_count(&cfg.devs, vdev_type_find("block")), 3);
	b = dev_cfg(&cfg, "block", 0);
	assert_string_equal(b->path, "/a.img");
	assert_string_equal(b->drive_id, "data");
	assert_false(b->is_root);
	assert_false(b->read_only);
	assert_int_equal(b->engine, VBLK_ENGINE_DEFAULT);
	b = dev_cfg(&cfg, "block", 1);
	assert_string_equal(b->path, "/r.img");
	assert_string_equal(b->drive_id, "disk1"); /* its place among the drives */
	assert_true(b->is_root);
	assert_true(b->read_only);
	assert_int_equal(b->engine, VBLK_ENGINE_SYNC);
	b = dev_cfg(&cfg, "block", 2);
	assert_string_equal(b->drive_id, "disk2");
	assert_int_equal(b->engine, VBLK_ENGINE_IO_URING);
	/* Other devices do not count: the first drive after a net is still disk0. */
	assert_int_equal(P("run", "--kernel", "k", "--net", "tap=t0", "--disk", "/a.img"), 0);
	assert_string_equal(((const struct vblk_config *)dev_cfg(&cfg, "block", 0))->drive_id,
			    "disk0");

	/* Sixteen drives fill the budget; a seventeenth is refused. */
	for (unsigned i = 0; i <= VDEV_MAX; i++) {
		snprintf(specs[i], sizeof(specs[i]), "/d%u.img", i);
		argv[argc++] = "--disk";
		argv[argc++] = specs[i];
	}
	assert_int_equal(cli_parse(argc - 2, argv, &cfg, &act, err, sizeof(err)), 0);
	assert_int_equal(cfg.devs.nr, VDEV_MAX);
	b = dev_cfg(&cfg, "block", VDEV_MAX - 1);
	assert_string_equal(b->path, "/d15.img");
	assert_string_equal(b->drive_id, "disk15");
	assert_int_equal(cli_parse(argc, argv, &cfg, &act, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--disk '/d16.img': more than 16 block devices");
	/* The budget is shared: fifteen drives and two nets do not fit either. */
	argv[argc - 4] = "--net";
	argv[argc - 3] = "tap=t0";
	argv[argc - 2] = "--net";
	argv[argc - 1] = "tap=t1";
	assert_int_equal(cli_parse(argc, argv, &cfg, &act, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "--net 'tap=t1': more than 16 devices in all");

	expect_error("--disk '/b,root': only one disk can be root", "run", "--kernel", "k",
		     "--disk", "/a,root", "--disk", "/b,root", (char *)NULL);
	expect_error("block id 'x' used twice", "run", "--kernel", "k", "--disk", "/a,id=x",
		     "--disk", "/b,id=x", (char *)NULL);
	/* A generated id may collide with an explicit one. */
	expect_error("--disk '/b': block id 'disk1' used twice", "run", "--kernel", "k", "--disk",
		     "/a,id=disk1", "--disk", "/b", (char *)NULL);
	expect_error("--disk ',ro': empty disk path", "run", "--kernel", "k", "--disk", ",ro",
		     (char *)NULL);
	expect_error("unknown engine", "run", "--kernel", "k", "--disk", "/a,engine=aio",
		     (char *)NULL);
	expect_error("unknown disk option 'rw'", "run", "--kernel", "k", "--disk", "/a,rw",
		     (char *)NULL);
}

/* A device option that is a flag (no value): parse() gets NULL, as with --allow-kvm-pvm. */
static void test_device_flags(void **state)
{
	char *argv[8] = {"ember", "run", "--kernel", "k"}, opt[48], want[96];
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	for (unsigned i = 0; i < vdev_type_count(); i++) {
		const struct vdev_type *t = vdev_type_at(i);

		if (!t->cli_opt || !t->cli_flag)
			continue;
		argv[4] = (char *)t->cli_opt;
		assert_int_equal(cli_parse(5, argv, &cfg, &act, err, sizeof(err)), 0);
		assert_int_equal(cfg.devs.nr, 1);
		assert_ptr_equal(cfg.devs.dev[0].type, t);
		snprintf(opt, sizeof(opt), "%s=1", t->cli_opt);
		argv[4] = opt;
		assert_int_equal(cli_parse(5, argv, &cfg, &act, err, sizeof(err)), -EINVAL);
		snprintf(want, sizeof(want), "%s takes no value", t->cli_opt);
		assert_string_equal(err, want);
		if (t->max == 1) {
			argv[4] = argv[5] = (char *)t->cli_opt;
			assert_int_equal(cli_parse(6, argv, &cfg, &act, err, sizeof(err)), -EINVAL);
			snprintf(want, sizeof(want), "%s: only one %s device", t->cli_opt, t->name);
			assert_string_equal(err, want);
		}
	}
}

/* The usage text lists every registered device type's option. */
static void test_usage(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	unsigned opts = 0;

	(void)state;
	assert_non_null(f);
	cli_print_usage(f);
	assert_int_equal(fclose(f), 0);
	assert_non_null(strstr(text, "usage: ember run --kernel PATH"));
	assert_non_null(strstr(text, "--log-level LEVEL"));
	for (unsigned i = 0; i < vdev_type_count(); i++) {
		const struct vdev_type *t = vdev_type_at(i);

		if (!t->cli_opt)
			continue;
		opts++;
		if (!strstr(text, t->cli_opt) || !strstr(text, t->cli_help))
			fail_msg("usage text lacks %s", t->cli_opt);
	}
	assert_true(opts >= 3);
	assert_non_null(strstr(text, "up to 16"));
	assert_non_null(strstr(text, "up to 8"));
	free(text);
}

/* Firecracker's command line: bare options, no `run`. */
static void test_api_mode(void **state)
{
	struct vm_config cfg;
	enum cli_action act;
	char err[256];

	(void)state;
	assert_int_equal(P("--api-sock", "/run/e.sock", "--id", "vm-1",
			   "--http-api-max-payload-size=4096", "--log-level", "debug"),
			 0);
	assert_int_equal(act, CLI_API);
	assert_string_equal(cfg.api_sock, "/run/e.sock");
	assert_string_equal(cfg.instance_id, "vm-1");
	assert_int_equal(cfg.max_payload, 4096);
	assert_false(cfg.no_api);
	assert_int_equal(P("--config-file", "vm.json", "--no-api"), 0);
	assert_int_equal(act, CLI_API);
	assert_true(cfg.no_api);
	assert_string_equal(cfg.config_file, "vm.json");
	assert_null(cfg.api_sock);

	expect_error("--no-api needs --config-file", "--no-api", (char *)NULL);
	/* No --api-sock: Firecracker's default socket (test_cli_fc.c has the rest). */
	assert_int_equal(P("--id", "x"), 0);
	assert_string_equal(cfg.api_sock, "/run/firecracker.socket");
	expect_error("takes no value", "--config-file", "f", "--no-api=1", (char *)NULL);
	expect_error("is an option of 'ember run'", "--api-sock", "s", "--kernel", "k",
		     (char *)NULL);
	expect_error("not an option of 'ember run'", "run", "--kernel", "k", "--api-sock", "s",
		     (char *)NULL);
	expect_error("max-payload-size", "--api-sock", "s", "--http-api-max-payload-size", "0",
		     (char *)NULL);
	expect_error("empty path", "--api-sock", "", (char *)NULL);
	assert_int_equal(P("--api-sock", "s", "--log-path", "/tmp/l", "--level", "Debug",
			   "--metrics-path", "/tmp/m"),
			 0);
	assert_string_equal(cfg.log_path, "/tmp/l");
	assert_string_equal(cfg.metrics_path, "/tmp/m");
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	expect_error("--level", "--api-sock", "s", "--level", "Loud", (char *)NULL);
	/* Live fork's pool of started children: API mode only, 0 to 16. */
	assert_int_equal(P("--api-sock", "s"), 0);
	assert_int_equal(cfg.fork_pool, 0);
	assert_int_equal(P("--api-sock", "s", "--fork-pool", "16"), 0);
	assert_int_equal(cfg.fork_pool, 16);
	expect_error("0 to 16", "--api-sock", "s", "--fork-pool", "17", (char *)NULL);
	expect_error("0 to 16", "--api-sock", "s", "--fork-pool", "-1", (char *)NULL);
	expect_error("not an option of 'ember run'", "run", "--kernel", "k", "--fork-pool", "2",
		     (char *)NULL);
}

/* The one strict number parser behind the CLI, HTTP and the jailer. */
static void test_str_to_u64(void **state)
{
	uint64_t v = 1234;

	(void)state;
	assert_int_equal(str_to_u64("0", 0, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(str_to_u64("32", 32, &v), 0);
	assert_int_equal(v, 32);
	assert_int_equal(str_to_u64("33", 32, &v), -ERANGE);
	/* A digit above a small max must not wrap the bound. */
	assert_int_equal(str_to_u64("7", 5, &v), -ERANGE);
	assert_int_equal(str_to_u64("18446744073709551615", UINT64_MAX, &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(str_to_u64("18446744073709551616", UINT64_MAX, &v), -ERANGE);
	assert_int_equal(str_to_u64("99999999999999999999999", UINT64_MAX, &v), -ERANGE);
	v = 42;
	assert_int_equal(str_to_u64("", 10, &v), -EINVAL);
	assert_int_equal(str_to_u64("-1", 10, &v), -EINVAL);
	assert_int_equal(str_to_u64("+1", 10, &v), -EINVAL);
	assert_int_equal(str_to_u64(" 1", 10, &v), -EINVAL);
	assert_int_equal(str_to_u64("1 ", 10, &v), -EINVAL);
	assert_int_equal(str_to_u64("0x10", 100, &v), -EINVAL);
	assert_int_equal(v, 42); /* untouched on failure */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),	 cmocka_unit_test(test_all_options),
	    cmocka_unit_test(test_help_version), cmocka_unit_test(test_refusals),
	    cmocka_unit_test(test_str_to_u64),	 cmocka_unit_test(test_api_mode),
	    cmocka_unit_test(test_net_vsock),	 cmocka_unit_test(test_disks),
	    cmocka_unit_test(test_usage),	 cmocka_unit_test(test_device_flags),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
